"""A bare Python object as a resource: annotate the parameter with ResourceParam[T] so it is
read as a resource, not an upstream asset."""

from __future__ import annotations

import outfitter as of


class GitHub:
    """A stand-in third-party client with no config of its own."""

    def __init__(self, token: str) -> None:
        self.token = token

    def repositories(self, org: str) -> list[str]:
        return [f"{org}/pipelines", f"{org}/resources"]


@of.asset
def public_github_repos(github: of.ResourceParam[GitHub]) -> list[str]:
    return github.repositories("outfitter")


defs = of.Definitions(assets=[public_github_repos], resources={"github": GitHub(token="t")})

if __name__ == "__main__":
    result = defs.get_implicit_global_asset_job_def().execute_in_process()
    print(result.asset_value("public_github_repos"))
    try:
        of.Definitions(assets=[public_github_repos], resources={"github": "not a client"})
    except of.exceptions.DefinitionError as exc:
        print("type checked:", exc.problems[0])
