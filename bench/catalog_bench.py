"""The catalogue under load (5,000 published outputs, 50,000 adoptions), anonymous and signed in, vs /healthz.

    .venv/bin/python bench/catalog_bench.py [--duration 10s] [--connections 32]

Migrates a throwaway SQLite database (or the one DATABASE_URL names: use an empty PostgreSQL database),
loads the demo data, imports the national list of municipalities, bulk-inserts the outputs and adoptions
(multi-row INSERTs, one transaction), starts one uvicorn worker serving the app with the catalogue
controllers registered (and /catalog answered by the anonymous page cache, as /challenges is), signs a demo
official in, and runs wrk on /healthz, /catalog and a filtered /catalog. Prints rps, p95 and each run's
ratio to /healthz.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import http_bench  # bench/ is the script's own folder, first on sys.path
from challenges_bench import session_cookie

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = 5_000
ADOPTIONS_PER_OUTPUT = 10  # 50,000 adoptions
CHUNK = 500
CATEGORIES = ("it-development", "communications", "data-collection", "e-government", "healthcare", "maps")
STATUSES = ("concept", "development", "beta", "stable", "obsolete")


def make_app() -> Any:
    """The app with the catalogue controllers registered (until the lead registers them in asgi.py)."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from app.asgi import create_app
    from app.catalog.catalogue_routes import CONTROLLERS
    from app.web.page_cache import AnonymousPageCacheMiddleware

    application = create_app()
    registered = {route.path for route in application.routes}
    if "/catalog" not in registered:
        for controller in CONTROLLERS:
            application.register(controller)
        # The lead's asgi.py is expected to list "/catalog" among the cached prefixes; do the same here.
        application.asgi_handler = AnonymousPageCacheMiddleware(
            application.asgi_handler, prefixes=("/catalog",), exact=frozenset()
        )
    return application


async def seed() -> None:
    """Municipalities, 5,000 published outputs and 50,000 adoptions, in bulk."""
    sys.path.insert(0, str(PROJECT_ROOT))
    import app  # noqa: F401 (sets PICCOLO_CONF before any table touches the database)
    from app.accounts.tables import User
    from app.catalog.municipalities import BUNDLED_CSV, apply_records, parse_rows
    from app.catalog.tables import Adoption, Municipality, Output
    from app.clock import utcnow

    records, _refused = parse_rows(BUNDLED_CSV.read_text(encoding="utf-8"))
    await apply_records(records)
    user = await User.select(User.id).order_by(User.id).first().run()
    assert user is not None, "seed-demo first"  # noqa: S101 (a bench script's precondition)
    author = user["id"]
    municipality_ids = [row["id"] for row in await Municipality.select(Municipality.id).run()]
    now = utcnow()
    rng = random.Random(2026)  # noqa: S311 (repeatable bench data, not secrets)
    async with Output._meta.db.transaction():
        for start in range(0, OUTPUTS, CHUNK):
            await Output.insert(
                *(
                    Output(
                        slug=f"bench-{index:05d}",
                        name=f"Bench software {index:05d}",
                        short_description_ja=f"ベンチマーク用のソフトウェア {index}",
                        short_description_en=f"Software for the benchmark {index}",
                        long_description_ja="",
                        long_description_en="",
                        repository_url=f"https://git.example.jp/bench/{index}",
                        landing_url="",
                        license="MIT" if index % 5 else "LicenseRef-proprietary",
                        license_is_open=bool(index % 5),
                        development_status=STATUSES[index % len(STATUSES)],
                        categories=[
                            CATEGORIES[index % len(CATEGORIES)],
                            CATEGORIES[(index // 7) % len(CATEGORIES)],
                        ],
                        maintainer_name="Bench Inc.",
                        version="1.0.0",
                        status="published",
                        created_by=author,
                        created_at=now,
                        updated_at=now,
                        published_at=now - timedelta(minutes=index),
                    )
                    for index in range(start, min(start + CHUNK, OUTPUTS))
                )
            ).run()
    outputs = await Output.select(Output.id).where(Output.slug.like("bench-%")).order_by(Output.id).run()
    counts: dict[int, int] = {}
    adoptions: list[Adoption] = []
    for position, row in enumerate(outputs):
        offset = rng.randrange(len(municipality_ids))
        for k in range(ADOPTIONS_PER_OUTPUT):
            municipality = municipality_ids[(offset + k * 173) % len(municipality_ids)]
            confirmed = rng.random() < 0.8
            status = "adopted" if rng.random() < 0.85 else rng.choice(("evaluating", "stopped"))
            if confirmed and status == "adopted":
                counts[row["id"]] = counts.get(row["id"], 0) + 1
            adoptions.append(
                Adoption(
                    output=row["id"],
                    municipality=municipality,
                    status=status,
                    deployment_url=f"https://app.example.lg.jp/{position}/{k}",
                    fork_url="",
                    recorded_by=author,
                    recorded_at=now,
                    updated_at=now,
                    confirmed_by=author if confirmed else None,
                    confirmed_at=now if confirmed else None,
                    one_per_pair=f"{row['id']}:{municipality}",
                )
            )
    async with Adoption._meta.db.transaction():
        for start in range(0, len(adoptions), CHUNK):
            await Adoption.insert(*adoptions[start : start + CHUNK]).run()
        for output_id, count in counts.items():
            await Output.update({Output.adoption_count: count}).where(Output.id == output_id).run()
    print(f"seeded {len(outputs)} outputs and {len(adoptions)} adoptions", flush=True)


def start_server(args: Any, env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """One uvicorn worker serving make_app()."""
    port = args.port or http_bench.free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "catalog_bench:make_app", "--factory",
        "--app-dir", str(Path(__file__).resolve().parent),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    http_bench.wait_until_healthy(base_url, server, args.startup_timeout)
    return server, base_url


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, serve, measure, print."""
    if argv is None and sys.argv[1:] == ["--seed"]:
        asyncio.run(seed())
        return 0
    args = http_bench.parse_args(argv)
    wrk = http_bench.find_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="kyoso-catalog-bench-"))
    env = {**http_bench.os.environ, "DATA_DIR": str(data_dir)}
    env.setdefault("DATABASE_URL", f"sqlite:///{data_dir / 'kyoso.sqlite3'}")
    server = None
    try:
        http_bench.check_catalogues()
        http_bench.run_cli(["migrate"], env)
        http_bench.run_cli(["seed-demo", "--if-empty"], env)
        subprocess.run([sys.executable, __file__, "--seed"], env=env, check=True, cwd=PROJECT_ROOT)
        server, base_url = start_server(args, env, data_dir / "server.log")
        cookie = f"Cookie: {session_cookie(base_url)}"
        filtered = "/catalog?category=maps&open=1&sort=newest"
        runs = [
            ("/healthz", "/healthz", ()),
            ("list, anonymous", "/catalog", ()),
            ("filtered, anonymous", filtered, ()),
            ("list, signed in", "/catalog", (cookie,)),
            ("filtered, signed in", filtered, (cookie,)),
        ]
        results = []
        for label, path, headers in runs:
            print(f"running {label} ({path}) ...", flush=True)
            result = http_bench.run_wrk(wrk, args, base_url, path, headers)
            result.path = label
            results.append(result)
    finally:
        if server is not None:
            http_bench.stop_server(server)
        shutil.rmtree(data_dir, ignore_errors=True)
    http_bench.print_ratio_table(results, width=22)
    return 0


if __name__ == "__main__":
    sys.exit(main())
