"""Index 100,000 synthetic ja/en documents with the search schema and time indexing and queries.

    .venv/bin/python bench/search_bench.py [--corpus realistic|dense] [--procs 1 2] [--documents N] [--merge]
    .venv/bin/python bench/search_bench.py --procs 2 --keep DIR, then --reuse DIR/procs2 [--merge]

Two corpora. "dense": every document is about one of the seven query themes, written from ~50 phrases, so
each query matches 3-20% of the corpus (a worst case: Whoosh scores every match in Python). "realistic"
(default): three documents in ten are about those themes; the rest are about the other business of a
city (~90 administrative topics, a municipality name from the 全国地方公共団体コード list), as in a
real catalogue of challenges, Q&A and outputs, so a query matches well under 1% of the corpus.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import index
from whoosh.fields import ID, Schema

from app.search.analysis import bigram_query, morphological_query, schema_fields, text_query

# Per theme: Japanese nouns (with okurigana and katakana variants on purpose) and English counterparts.
THEMES: dict[str, tuple[list[str], list[str]]] = {
    "防災": (
        ["防災訓練", "避難所", "ハザードマップ", "災害備蓄", "地域防災計画", "避難経路", "防災無線"],
        ["disaster drills", "evacuation shelters", "hazard maps", "emergency supplies", "flood warnings"],
    ),
    "子育て支援": (
        ["子育て支援策", "待機児童", "保育所", "子ども食堂", "こども医療費", "一時預かり", "育児相談"],
        ["childcare support", "daycare slots", "working parents", "school lunches", "parenting advice"],
    ),
    "交通": (
        ["デマンド交通", "路線バス", "シェアサイクル", "公共交通空白地域", "バス停", "渋滞対策"],
        ["on-demand buses", "traffic congestion", "bike sharing", "bus timetables", "road sensors"],
    ),
    "DX": (
        [
            "DX推進",
            "API設計",
            "サーバー更新",
            "クラウドサーバ移行",
            "コンピューター",
            "コンピュータ",
            "申込み",
        ],
        ["digital transformation", "API design", "server migration", "cloud computing", "open data"],
    ),
    "観光": (
        ["観光客", "多言語案内", "人流分析", "観光ルート", "宿泊施設", "ウェブサイト", "ウエブサイト"],
        ["tourism analytics", "visitor numbers", "multilingual signs", "hotel bookings", "city tours"],
    ),
    "医療": (
        ["救急医療", "オンライン診療", "搬送時間", "健康診断", "高齢者の見守り", "ユーザー登録"],
        ["emergency medicine", "telemedicine", "ambulance dispatch", "health checks", "elderly care"],
    ),
    "環境": (
        ["温室効果ガス", "太陽光パネル", "ごみ収集", "ゴミ分別", "再生可能エネルギー", "引っ越し", "引越し"],
        ["greenhouse gas", "solar panels", "waste sorting", "recycling rates", "renewable energy"],
    ),
}
JA_TEMPLATES = [
    "{a}と{b}に関する課題です。令和{n}年度に{c}の改善を進め、問合せは担当課へ。",
    "{a}の実証実験を{n}か所で行いました。{b}と{c}の連携が今後の課題です。",
    "Q. {a}は申し込みできますか。A. はい、{b}の窓口で{n}月から受け付けます。",
    "{a}を活用した{b}の提案を募集します。予算は{n}００万円、{c}も対象です。",
]
EN_TEMPLATES = [
    "Challenge {n}: improving {a} and {b} for residents, with a pilot on {c}.",
    "Output report: our team shipped {a} tooling; {b} results are published as open data ({n} files).",
]
MIXED_TEMPLATE = "{a}のために{e}を導入し、{b}と{c}を改善（{n}件）。"

# The rest of a city's business, for the "realistic" corpus.
OTHER_TOPICS_JA = [
    "図書館",
    "公園",
    "上下水道",
    "税務",
    "戸籍",
    "選挙",
    "農業",
    "漁業",
    "林業",
    "商店街",
    "空き家",
    "公営住宅",
    "道路補修",
    "橋梁",
    "河川",
    "文化財",
    "博物館",
    "体育館",
    "学校給食",
    "教員研修",
    "保健所",
    "介護保険",
    "国民年金",
    "国民健康保険",
    "消防団",
    "防犯カメラ",
    "街路灯",
    "駐輪場",
    "駐車場",
    "墓地",
    "火葬場",
    "水道料金",
    "動物愛護",
    "空港",
    "港湾",
    "鉄道",
    "移住定住",
    "婚活",
    "出生届",
    "高校",
    "大学連携",
    "研究所",
    "産業振興",
    "企業誘致",
    "中小企業",
    "創業支援",
    "就労支援",
    "雇用",
    "障害者福祉",
    "生活保護",
    "民生委員",
    "町内会",
    "自治会",
    "広報紙",
    "電子申請",
    "マイナンバー",
    "住民票",
    "印鑑登録",
    "税証明",
    "固定資産税",
    "軽自動車税",
    "ふるさと納税",
    "公共施設",
    "庁舎",
    "議会",
    "条例",
    "監査",
    "入札",
    "契約",
    "統計調査",
    "国勢調査",
    "人権",
    "男女共同参画",
    "国際交流",
    "姉妹都市",
    "文化祭",
    "スポーツ大会",
    "成人式",
    "敬老会",
    "献血",
    "予防接種",
    "健康診断票",
    "食品衛生",
    "環境騒音",
    "大気汚染",
    "水質検査",
    "鳥獣被害",
    "森林整備",
    "農地転用",
    "都市計画",
    "区画整理",
    "景観",
]
OTHER_TOPICS_EN = [
    "library",
    "parks",
    "water",
    "supply",
    "taxes",
    "family",
    "register",
    "elections",
    "farming",
    "fishing",
    "forestry",
    "shopping",
    "streets",
    "vacant",
    "houses",
    "public",
    "housing",
    "road",
    "repair",
    "bridges",
    "rivers",
    "museums",
    "gyms",
    "school",
    "meals",
    "teacher",
    "training",
    "health",
    "centre",
    "nursing",
    "insurance",
    "pensions",
    "fire",
    "brigade",
    "lights",
    "bicycle",
    "parking",
    "cemeteries",
    "airport",
    "harbour",
    "railway",
    "relocation",
    "startups",
    "employment",
    "welfare",
    "residents",
    "association",
    "newsletters",
    "e-applications",
    "property",
    "hometown",
    "city",
    "hall",
    "council",
    "ordinances",
    "audits",
    "procurement",
    "statistics",
    "census",
    "sister",
    "festivals",
    "sports",
    "events",
    "vaccination",
    "food",
    "hygiene",
    "noise",
    "air",
    "quality",
    "urban",
    "planning",
]
OTHER_TEMPLATES_JA = [
    "{place}の{a}について、{b}と{c}の見直しを令和{n}年度に行います。",
    "{place}では{a}の利用者が増え、{b}の担当課が{c}の案内を更新しました。",
    "Q. {a}の手続きは{place}の窓口でできますか。A. {b}の担当へ。{c}は{n}月に受付開始です。",
]
OTHER_TEMPLATES_EN = [
    "{place}: a review of {a} and {b}, with {c} changes planned for year {n}.",
    "Residents of {place} asked about {a}; the {b} office updated its {c} guidance.",
]

QUERIES = [
    "防災", "防災訓練", "避難所", "ハザードマップ", "子育て支援", "待機児童", "子ども", "こども医療費",
    "デマンド交通", "公共交通", "シェアサイクル", "バス停", "DX推進", "API設計", "サーバー", "サーバ",
    "コンピュータ", "コンピューター", "申し込み", "申込", "観光客", "人流分析", "ウェブサイト", "救急医療",
    "オンライン診療", "ユーザ", "温室効果ガス", "太陽光", "ごみ", "ゴミ分別", "引越し", "引っ越し",
    "問い合わせ", "令和６年度", "2024年度", "disaster drill", "childcare", "traffic congestion",
    "server migration", "tourism", "telemedicine", "solar panel", "recycling", "open data", "API",
    "DX API設計", "子育て childcare", "見守り", "再生可能エネルギー", "渋滞対策",
]  # fmt: skip


def place_names() -> list[str]:
    """Municipality names from the list the catalogue ships with."""
    path = Path(__file__).resolve().parent.parent / "app" / "catalog" / "data" / "local-government-codes.csv"
    with path.open(encoding="utf-8") as handle:
        return [row["city"] or row["prefecture"] for row in csv.DictReader(handle)]


def other_document(rng: random.Random, places: list[str]) -> tuple[str, str]:
    """A document about the rest of a city's business (title, body)."""
    place, n = rng.choice(places), rng.randint(1, 12)
    if rng.random() < 0.7:
        a, b, c = rng.sample(OTHER_TOPICS_JA, 3)
        body = " ".join(
            rng.choice(OTHER_TEMPLATES_JA).format(place=place, a=a, b=b, c=c, n=n) for _ in range(3)
        )
        return f"{place}の{a}", body
    a, b, c = rng.sample(OTHER_TOPICS_EN, 3)
    templates = [rng.choice(OTHER_TEMPLATES_EN) for _ in range(3)]
    body = " ".join(template.format(place=place, a=a, b=b, c=c, n=n) for template in templates)
    return f"{a.title()} in {place}", body


def documents(count: int, corpus: str = "realistic", seed: int = 7) -> Iterator[tuple[str, str, str]]:
    """Yield (id, title, body): theme documents 60% Japanese, 25% English, 15% mixed (see the docstring)."""
    rng = random.Random(seed)  # noqa: S311  # synthetic data, not security
    themes = list(THEMES.values())
    places = place_names()
    for number in range(count):
        if corpus == "realistic" and rng.random() < 0.7:
            title, body = other_document(rng, places)
            yield f"doc{number}", title, body
            continue
        ja, en = rng.choice(themes)
        other_ja, other_en = rng.choice(themes)
        roll = rng.random()
        n = rng.randint(1, 12)
        if roll < 0.6:
            a, b, c = [*rng.sample(ja, 2), rng.choice(other_ja)]
            title = f"{a}の{rng.choice(['改善', '課題', '成果', '提案'])}"
            body = " ".join(rng.choice(JA_TEMPLATES).format(a=a, b=b, c=c, n=n) for _ in range(3))
        elif roll < 0.85:
            a, b, c = [*rng.sample(en, 2), rng.choice(other_en)]
            title = f"{a.title()} pilot"
            body = " ".join(rng.choice(EN_TEMPLATES).format(a=a, b=b, c=c, n=n) for _ in range(3))
        else:
            a, b, c = [*rng.sample(ja, 2), rng.choice(other_ja)]
            title = f"{a} × {rng.choice(en)}"
            body = MIXED_TEMPLATE.format(a=a, b=b, c=c, e=rng.choice(en), n=n) * 2
        # Full-width digits in one document in five, as pasted from office documents.
        if rng.random() < 0.2:
            body = body.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        yield f"doc{number}", title, body


def directory_size(path: Path) -> int:
    """Return the total size in bytes of the files under ``path``."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def build(path: Path, count: int, procs: int, corpus: str) -> float:
    """Index ``count`` documents into ``path`` and return the seconds it took."""
    schema = Schema(doc_id=ID(stored=True, unique=True), **schema_fields())
    ix = index.create_in(str(path), schema)
    started = time.perf_counter()
    options = {"procs": procs, "multisegment": True, "limitmb": 256} if procs > 1 else {"limitmb": 256}
    writer = ix.writer(**options)
    for doc_id, title, body in documents(count, corpus):
        writer.add_document(doc_id=doc_id, title=title, text=body, text_bigram=f"{title}\n{body}")
    writer.commit()
    return time.perf_counter() - started


def measure_queries(path: Path, strategy: str, rounds: int, limit: int) -> list[float]:
    """Run every query ``rounds`` times and return the latencies in milliseconds."""
    ix = index.open_dir(str(path))
    latencies: list[float] = []
    with ix.searcher() as searcher:
        for _ in range(rounds):
            for text in QUERIES:
                started = time.perf_counter()
                if strategy == "fallback":
                    # The bigram field only when the morphological field finds nothing.
                    results = searcher.search(morphological_query(text), limit=limit)
                    if results.is_empty():
                        results = searcher.search(bigram_query(text), limit=limit)
                else:
                    results = searcher.search(text_query(text), limit=limit)
                [hit["doc_id"] for hit in results]
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run_queries(path: Path, rounds: int, limit: int) -> None:
    """Print median and p95 latency of the fixed queries for each query strategy."""
    for strategy in ("both", "fallback"):
        measure_queries(path, strategy, 1, limit)  # warm the caches and the Sudachi dictionary
        latencies = sorted(measure_queries(path, strategy, rounds, limit))
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"query {strategy}: {len(latencies)} runs of {len(QUERIES)} queries, limit {limit}: "
            f"median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms",
            flush=True,
        )


def merge(path: Path) -> None:
    """Merge every segment into one (a procs=2 build leaves two; the app's `reindex` writes one)."""
    started = time.perf_counter()
    index.open_dir(str(path)).optimize()
    print(f"merged into one segment in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    """Build the index with each writer setting, then time the fixed queries on the last one."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--corpus", choices=["realistic", "dense"], default="realistic")
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="keep the indexes in this new directory to re-run queries")
    parser.add_argument("--reuse", type=Path, help="time queries on an index kept by --keep (no indexing)")
    parser.add_argument(
        "--merge", action="store_true", help="merge the index into one segment first, as `reindex` writes it"
    )
    args = parser.parse_args()

    if args.reuse is not None:
        if args.merge:
            merge(args.reuse)
        run_queries(args.reuse, args.rounds, args.limit)
        return
    root = Path(tempfile.mkdtemp(prefix="kyoso-search-bench-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    try:
        path = root
        for procs in args.procs:
            path = root / f"procs{procs}"
            path.mkdir()
            seconds = build(path, args.documents, procs, args.corpus)
            size = directory_size(path) / 1_000_000
            print(
                f"index procs={procs}, {args.corpus} corpus: {args.documents} docs in {seconds:.1f} s "
                f"({seconds / args.documents * 1000:.2f} s per 1,000), {size:.1f} MB on disk",
                flush=True,
            )
        if args.merge:
            merge(path)
        run_queries(path, args.rounds, args.limit)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
