"""Write the API's OpenAPI document to ``docs/openapi.json`` and its route table into
``docs/api.md`` (between the ``routes`` markers), from the app itself.

    .venv/bin/python scripts/export_openapi.py

``tests/api/test_openapi.py`` fails when the served document and the file differ, or when the
table does not list exactly the schema's routes: run this after changing a route, and review the
diff (a frontend team regenerates its client from the file).
"""

import json
import re
from pathlib import Path
from typing import Any

from azak_api.app import create_app
from azak_api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "docs" / "openapi.json"
API_PAGE = ROOT / "docs" / "api.md"
TABLE = re.compile(r"(<!-- routes:start -->\n).*?(<!-- routes:end -->)", re.DOTALL)
METHODS = ("get", "post", "put", "patch", "delete")


def schema() -> dict[str, Any]:
    """The document the app serves at /docs/openapi.json (no database is touched)."""
    settings = Settings(database_url="postgresql+psycopg://export@127.0.0.1:1/unused", environment="test",
                        jwt_secret="export-" + "x" * 40, auto_migrate=False)
    return create_app(settings).openapi_schema.to_schema()


def route_table(document: dict[str, Any]) -> str:
    rows = ["| method | path | who | what |", "|---|---|---|---|"]
    for path, item in sorted(document["paths"].items()):
        for method in METHODS:
            if method in item:
                operation = item[method]
                admin = "admin" in operation.get("summary", "").lower() or "admin" in operation.get("tags", [])
                who = "admin" if admin else "user" if operation.get("security") else "anyone"
                summary = operation.get("summary", "").replace("|", "\\|")
                rows.append(f"| {method.upper()} | `{path}` | {who} | {summary} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    document = schema()
    SCHEMA_FILE.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                           encoding="utf-8")
    page = API_PAGE.read_text(encoding="utf-8")
    if not TABLE.search(page):
        raise SystemExit(f"{API_PAGE} has no <!-- routes:start --> ... <!-- routes:end --> markers")
    API_PAGE.write_text(TABLE.sub(lambda m: m.group(1) + route_table(document) + m.group(2), page),
                        encoding="utf-8")


if __name__ == "__main__":
    main()
