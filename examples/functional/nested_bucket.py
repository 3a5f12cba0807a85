"""Resources that depend on resources: a file-store bucket holding credentials, first fully
configured in code, then with the credentials given at launch (bound at top level too)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import outfitter as of

ROOT = Path(tempfile.mkdtemp())


class CredentialsResource(of.ConfigurableResource):
    username: str
    password: str


class FileStoreBucket(of.ConfigurableResource):
    credentials: CredentialsResource
    region: str

    def write(self, data: str) -> Path:
        path = ROOT / self.region / f"{self.credentials.username}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)
        return path


@of.asset
def my_asset(bucket: FileStoreBucket) -> str:
    return str(bucket.write("hello"))


if __name__ == "__main__":
    configured = of.Definitions(
        assets=[my_asset],
        resources={
            "bucket": FileStoreBucket(
                credentials=CredentialsResource(username="my_user", password="my_password"),
                region="us-east-1",
            )
        },
    )
    result = configured.get_implicit_global_asset_job_def().execute_in_process()
    print("fully configured:", result.asset_value("my_asset"))

    credentials = CredentialsResource.configure_at_launch()
    at_launch = of.Definitions(
        assets=[my_asset],
        resources={
            "credentials": credentials,
            "bucket": FileStoreBucket(credentials=credentials, region="eu-west-1"),
        },
    )
    launch = {"resources": {"credentials": {"config": {"username": "ops", "password": "pw"}}}}
    job = at_launch.get_implicit_global_asset_job_def()
    print("launch-configured:", job.execute_in_process(run_config=launch).asset_value("my_asset"))
