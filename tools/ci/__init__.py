"""What the GitHub workflow does, for people without GitHub: the pull-request preview comment
(tools/pr-comment); and the workflow's own lint (tools/ci/actionlint)."""
