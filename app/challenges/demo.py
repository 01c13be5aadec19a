"""Demo challenges across bureaus and lifecycle phases, with their history, Q&A and a follow."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

from app.accounts.tables import Bureau, User
from app.challenges.lifecycle import PUBLIC_STATUSES, Status
from app.challenges.tables import (
    Challenge,
    ChallengeEvent,
    ChallengeRevision,
    ChallengeTheme,
    Follow,
    Question,
)

# Japan has no daylight saving time: a fixed offset is exact.
JST = timezone(timedelta(hours=9), "JST")

DEMO_BUREAUS = ("digital-services", "industry-labor", "port-harbor")
ADMIN = "admin@kyoso.example"
DIGITAL = "official.digital@kyoso.example"
DIGITAL2 = "official.digital2@kyoso.example"
INDUSTRY = "official.industry@kyoso.example"
PORT = "official.port@kyoso.example"
MIRAI = "founder@mirai-mobility.example"
KOSODATE = "founder@kosodate-tech.example"
DEMO_PEOPLE = (ADMIN, DIGITAL, DIGITAL2, INDUSTRY, PORT, MIRAI, KOSODATE)

# The shared theme vocabulary; every demo theme is one of these.
THEMES = (
    "防災",
    "モビリティ",
    "行政DX",
    "子育て",
    "福祉",
    "物流",
    "環境",
    "まちづくり",
    "働き方",
    "産業振興",
)

# The order a challenge moves through; each consecutive pair is one transition of lifecycle.TRANSITIONS.
LIFECYCLE = (
    Status.DRAFT,
    Status.IN_REVIEW,
    Status.PUBLISHED,
    Status.CLOSED,
    Status.JUDGING,
    Status.RESULTS_PUBLISHED,
    Status.ARCHIVED,
)


class DemoAccountsMissing(LookupError):
    """The demo bureaus or people the challenges refer to are not in the database."""


@dataclass(frozen=True)
class Bilingual:
    """The same text in Japanese and in English."""

    ja: str
    en: str


FOUNDED_10Y = Bilingual("設立10年以内", "Founded within the last 10 years")
UNLISTED = Bilingual("未上場", "Not listed on a stock exchange")
POC_IN_TOKYO = Bilingual("都内で実証可能", "Able to run a proof of concept in Tokyo")
COMMON_ELIGIBILITY = (FOUNDED_10Y, UNLISTED, POC_IN_TOKYO)


@dataclass(frozen=True)
class DemoChallenge:
    """One demo challenge; its dates are days relative to the seeding day (JST)."""

    slug: str
    bureau: str
    status: Status
    author: str
    reviewer: str  # approves it (approved_by once published), or is asked to
    title: Bilingual
    summary: Bilingual
    body: Bilingual
    background: Bilingual
    problem: Bilingual
    outcome: Bilingual
    themes: tuple[str, ...]
    poc_budget_jpy: int
    selection_count: int
    contact: str
    close_day: int  # applications close at 17:00 JST this many days from today
    window_days: int = 45  # applications open this many days before they close
    extended_by_days: int = 0  # a material change moved the deadline back by this much
    eligibility: tuple[Bilingual, ...] = COMMON_ELIGIBILITY


@dataclass(frozen=True)
class DemoQuestion:
    """A question a demo startup asked, and the answer if there is one yet."""

    slug: str
    asker: str
    body: str
    asked_day: int
    answer: str = ""
    answered_by: str | None = None
    answered_day: int | None = None


CHALLENGES = (
    DemoChallenge(
        slug="nishi-shinjuku-smart-city",
        bureau="digital-services",
        status=Status.PUBLISHED,
        author=DIGITAL,
        reviewer=DIGITAL2,
        title=Bilingual(
            "西新宿のスマートシティ化：人流データで街の回遊性を高める",
            "Nishi-Shinjuku smart city: using people-flow data to make the district easier to explore",
        ),
        summary=Bilingual(
            "超高層ビルが立ち並ぶ西新宿では、平日の昼と夜、休日で人の流れが大きく変わります。"
            "スマートポールや5Gなど整備済みのインフラと人流データを活用し、"
            "歩行者の回遊性とエリアの賑わいを高めるサービスを実証していただけるスタートアップを募集します。",
            "In Nishi-Shinjuku's skyscraper district, the flow of people changes sharply between "
            "weekday lunchtimes, evenings and weekends. We are looking for a startup to test, on the "
            "street, a service that uses the smart poles, 5G and people-flow data already in place to "
            "make the area easier to walk around and livelier.",
        ),
        body=Bilingual(
            "西新宿エリアで、**人流データを活用した回遊促進サービス**を実証します。\n\n"
            "- 実証場所：都庁周辺の公開空地・歩行者デッキ\n"
            "- 実証期間：採択後、最長6か月\n"
            "- 提供できるもの：スマートポール、エリアWi-Fi、地元事業者との調整\n\n"
            "詳しくは[東京都公式ホームページ](https://www.metro.tokyo.lg.jp/)をご覧ください。\n",
            "A proof of concept of a **service that uses people-flow data to get people exploring** "
            "Nishi-Shinjuku.\n\n"
            "- Where: the open spaces and pedestrian decks around the Metropolitan Government Building\n"
            "- How long: up to six months after selection\n"
            "- What we provide: smart poles, area Wi-Fi, and introductions to local businesses\n\n"
            "See the [Tokyo Metropolitan Government website](https://www.metro.tokyo.lg.jp/) for details.\n",
        ),
        background=Bilingual(
            "西新宿では官民連携でスマートポールや5G基地局の整備が進みました。一方で、\n\n"
            "- 取得したデータが事業者ごとに分かれている\n"
            "- 平日夜間と休日の人出が少ない\n\n"
            "といった課題が残っています。\n",
            "Public-private partnerships have equipped Nishi-Shinjuku with smart poles and 5G base "
            "stations. Yet:\n\n"
            "- the data collected stays with each operator\n"
            "- few people come on weekday evenings and at weekends\n",
        ),
        problem=Bilingual(
            "**データはあるのに、街の体験が変わっていない**ことが課題です。\n\n"
            "- 目的地以外に立ち寄るきっかけが少ない\n"
            "- イベントや店舗の情報が来街者に届いていない\n",
            "**The data exists, but the experience of the district has not changed.**\n\n"
            "- Visitors have few reasons to stop anywhere but their destination\n"
            "- News of events and shops does not reach them\n",
        ),
        outcome=Bilingual(
            "- 平日夜間・休日の**滞在時間の増加**を数値で示す\n"
            "- 個人を特定しない形でのデータ活用モデル\n"
            "- 都内の他エリアへ展開できる仕組み\n",
            "- A measurable **increase in time spent** in the area on weekday evenings and weekends\n"
            "- A model for using the data without identifying anyone\n"
            "- An approach other districts of Tokyo can adopt\n",
        ),
        themes=("まちづくり", "モビリティ", "環境"),
        poc_budget_jpy=20_000_000,
        selection_count=2,
        contact="デジタルサービス局 スマートシティ推進担当（smartcity@kyoso.example）",
        close_day=33,
        extended_by_days=7,
    ),
    DemoChallenge(
        slug="multilingual-disaster-information",
        bureau="digital-services",
        status=Status.PUBLISHED,
        author=DIGITAL2,
        reviewer=DIGITAL,
        title=Bilingual(
            "防災情報の多言語化：外国人住民と旅行者に届く災害情報",
            "Multilingual disaster information that reaches foreign residents and visitors",
        ),
        summary=Bilingual(
            "都内には約60万人の外国人住民が暮らし、多くの旅行者が訪れます。"
            "地震や豪雨の際、避難情報が日本語でしか届かなければ命に関わります。"
            "防災情報を多言語・やさしい日本語で、必要な人に素早く届ける仕組みを募集します。",
            "Around 600,000 foreign residents live in Tokyo, and many more visitors come every year. "
            "When an earthquake or a downpour strikes, evacuation information that arrives only in Japanese "
            "can cost lives. We are looking for a way to deliver disaster information quickly, in many "
            "languages and in plain Japanese, to the people who need it.",
        ),
        body=Bilingual(
            "**避難情報・気象警報を多言語で配信する仕組み**を実証します。\n\n"
            "- 対象言語：英語、中国語、韓国語、ベトナム語、やさしい日本語ほか\n"
            "- 連携先：[東京都防災ホームページ](https://www.bousai.metro.tokyo.lg.jp/)の公開情報\n",
            "A proof of concept of **delivering evacuation information and weather warnings in many "
            "languages**.\n\n"
            "- Languages: English, Chinese, Korean, Vietnamese, plain Japanese and more\n"
            "- Source: the public feeds of the [Tokyo disaster prevention website]"
            "(https://www.bousai.metro.tokyo.lg.jp/)\n",
        ),
        background=Bilingual(
            "災害時の情報は自治体・交通機関・気象庁から日本語中心に発信されています。"
            "翻訳は人手に頼る部分が多く、**発信までに時間がかかる**のが現状です。\n",
            "Disaster information comes from municipalities, transport operators and the weather agency, "
            "mostly in Japanese. Translation still relies largely on people, so **it takes time before "
            "anything goes out**.\n",
        ),
        problem=Bilingual(
            "- 機械翻訳の誤訳が避難行動を誤らせるおそれ\n"
            "- 旅行者は自治体のアプリを入れていない\n"
            "- 停電・通信障害時にも届く手段が必要\n",
            "- A mistranslation could send people the wrong way\n"
            "- Visitors do not install municipal apps\n"
            "- The message must get through during power and network outages\n",
        ),
        outcome=Bilingual(
            "- 警報発表から**5分以内**の多言語配信\n- 訓練での到達率・理解度の測定\n",
            "- Multilingual delivery **within five minutes** of a warning\n"
            "- Reach and comprehension measured in a drill\n",
        ),
        themes=("防災", "行政DX"),
        poc_budget_jpy=15_000_000,
        selection_count=2,
        contact="デジタルサービス局 防災DX担当（bousai-dx@kyoso.example）",
        close_day=12,
        window_days=40,
    ),
    DemoChallenge(
        slug="sme-dx-support",
        bureau="industry-labor",
        status=Status.PUBLISHED,
        author=INDUSTRY,
        reviewer=ADMIN,
        title=Bilingual(
            "中小企業のDX支援：町工場の受発注をデジタルに",
            "Helping small manufacturers go digital, starting with their orders",
        ),
        summary=Bilingual(
            "都内の町工場では、受発注の多くがいまも電話とFAXで行われています。"
            "ITの専任者がいない小さな事業所でも無理なく使える受発注・在庫管理の仕組みを、"
            "実際の工場で試していただけるスタートアップを募集します。",
            "Many small factories in Tokyo still take and place orders by phone and fax. We are looking for "
            "a startup to try out, in real workshops, an ordering and stock-keeping tool that a business "
            "without any IT staff can adopt without strain.",
        ),
        body=Bilingual(
            "大田区・墨田区などの**町工場5社程度**と連携し、受発注のデジタル化を実証します。\n\n"
            "- FAX注文書の読み取りと取り込み\n- 取引先との納期調整\n\n"
            "支援制度は[産業労働局](https://www.sangyo-rodo.metro.tokyo.lg.jp/)のページもご覧ください。\n",
            "A proof of concept with **about five small factories** in wards such as Ota and Sumida.\n\n"
            "- Reading and importing faxed purchase orders\n- Agreeing delivery dates with customers\n\n"
            "See also the support programmes of the [Bureau of Industrial and Labor Affairs]"
            "(https://www.sangyo-rodo.metro.tokyo.lg.jp/).\n",
        ),
        background=Bilingual(
            "人手不足が深刻になるなか、**事務作業に経営者自身の時間が奪われている**工場が少なくありません。\n",
            "With staff ever harder to find, **owners spend their own hours on paperwork** in many "
            "factories.\n",
        ),
        problem=Bilingual(
            "- 既存のパッケージは高価で、設定が難しい\n- 取引先がFAXをやめられない\n",
            "- Packaged software is expensive and hard to set up\n- Customers keep sending faxes\n",
        ),
        outcome=Bilingual(
            "- 受発注の事務時間を**半分に**\n- 月額1万円程度で続けられる料金体系\n",
            "- **Half** the time spent on orders\n"
            "- Pricing a workshop can keep paying: about ¥10,000 a month\n",
        ),
        themes=("産業振興", "働き方"),
        poc_budget_jpy=10_000_000,
        selection_count=3,
        contact="産業労働局 商工部 経営支援担当（sme-dx@kyoso.example）",
        close_day=2,
    ),
    DemoChallenge(
        slug="port-logistics-dx",
        bureau="port-harbor",
        status=Status.PUBLISHED,
        author=PORT,
        reviewer=ADMIN,
        title=Bilingual(
            "港湾物流のDX：コンテナターミナル周辺の渋滞を減らす",
            "Port logistics DX: cutting the queues around the container terminals",
        ),
        summary=Bilingual(
            "東京港のコンテナターミナル周辺では、搬出入のトレーラーが長い列をつくり、"
            "ドライバーの長時間労働と排出ガスの原因になっています。"
            "搬入予約やゲート手続きのデジタル化で待ち時間を減らす仕組みを募集します。",
            "Trailers queue for hours around the container terminals of the Port of Tokyo, which means long "
            "working days for drivers and needless exhaust fumes. We are looking for a way to cut waiting "
            "times by digitising slot booking and gate procedures.",
        ),
        body=Bilingual(
            "**ゲート前の待機時間の削減**に向けた実証です。\n\n"
            "- 対象：大井・青海のコンテナターミナル\n- 連携：ターミナルオペレーター、運送事業者\n\n"
            "港湾の概要は[港湾局](https://www.kouwan.metro.tokyo.lg.jp/)のページをご覧ください。\n",
            "A proof of concept to **cut waiting times at the terminal gates**.\n\n"
            "- Where: the Oi and Aomi container terminals\n- With: terminal operators and hauliers\n\n"
            "See the [Bureau of Port and Harbor](https://www.kouwan.metro.tokyo.lg.jp/) for an overview of "
            "the port.\n",
        ),
        background=Bilingual(
            "取扱量の増加に対し、ターミナルの拡張には時間がかかります。**既存施設の運用改善**が急務です。\n",
            "Cargo volumes keep growing, and new terminals take years to build: **the existing ones must "
            "work better now**.\n",
        ),
        problem=Bilingual(
            "- 搬入予約が一部でしか使われていない\n- ゲートでの書類確認に時間がかかる\n",
            "- Few hauliers use slot booking\n- Paper checks at the gate take time\n",
        ),
        outcome=Bilingual(
            "- ゲート待ち時間を**30%削減**\n- 予約と実績データの共有基盤\n",
            "- Gate waiting times **down by 30%**\n- Shared booking and arrival data\n",
        ),
        themes=("物流", "環境"),
        poc_budget_jpy=30_000_000,
        selection_count=1,
        contact="港湾局 港湾経営部 物流DX担当（port-dx@kyoso.example）",
        close_day=-3,
    ),
    DemoChallenge(
        slug="online-childcare-procedures",
        bureau="digital-services",
        status=Status.DRAFT,
        author=DIGITAL,
        reviewer=DIGITAL2,
        title=Bilingual(
            "子育て支援の手続きオンライン化：窓口に行かずに済む申請",
            "Childcare support procedures online, with no trip to the counter",
        ),
        summary=Bilingual(
            "保育園の入園申込や児童手当など、子育てに関する手続きはいまも紙と窓口が中心です。"
            "忙しい保護者がスマートフォンから数分で申請でき、区市町村の職員の負担も減る仕組みを募集します。",
            "Nursery applications, child allowances and other childcare procedures still mostly mean paper "
            "forms and a visit to the counter. We are looking for a way for busy parents to apply from a "
            "smartphone in minutes, that also lightens the load on municipal staff.",
        ),
        body=Bilingual(
            "**子育て関連手続きのオンライン化**を、協力自治体とともに実証します。\n\n"
            "- 保育園入園申込\n- 児童手当の各種届出\n",
            "A proof of concept of **childcare procedures online**, with partner municipalities.\n\n"
            "- Nursery applications\n- Child allowance notifications\n",
        ),
        background=Bilingual(
            "申請書類は自治体ごとに様式が異なり、**同じ情報を何度も書く**必要があります。\n",
            "Every municipality has its own forms, so parents **write the same details again and again**.\n",
        ),
        problem=Bilingual(
            "- 平日昼間しか窓口が開いていない\n- 添付書類の不備による差し戻しが多い\n",
            "- Counters open only on weekday daytimes\n"
            "- Many applications come back for a missing document\n",
        ),
        outcome=Bilingual(
            "- 申請時間を**10分以内**に\n- 差し戻し件数の半減\n",
            "- Applying in **under ten minutes**\n- Half as many applications sent back\n",
        ),
        themes=("子育て", "行政DX"),
        poc_budget_jpy=12_000_000,
        selection_count=1,
        contact="デジタルサービス局 子育てDX担当（kosodate-dx@kyoso.example）",
        close_day=75,
    ),
    DemoChallenge(
        slug="elderly-watch-over",
        bureau="digital-services",
        status=Status.IN_REVIEW,
        author=DIGITAL,
        reviewer=DIGITAL2,
        title=Bilingual(
            "高齢者の見守り：ひとり暮らしの異変に早く気づく",
            "Looking out for older people who live alone, and noticing sooner when something is wrong",
        ),
        summary=Bilingual(
            "都内ではひとり暮らしの高齢者が増え続けています。"
            "カメラを使わずにプライバシーに配慮しながら、体調の変化や転倒にいち早く気づき、"
            "家族や地域の支援者につなぐ見守りの仕組みを募集します。",
            "More and more older people in Tokyo live alone. We are looking for a way to notice changes in "
            "health or a fall early, without cameras and with respect for privacy, and to alert family and "
            "local helpers.",
        ),
        body=Bilingual(
            "**プライバシーに配慮した見守りサービス**を、都営住宅の一部で実証します。\n\n"
            "- 電力・水道の利用データ\n- 室内センサー（カメラは使用しません）\n",
            "A proof of concept of a **privacy-respecting watch-over service** in some metropolitan "
            "housing.\n\n"
            "- Electricity and water usage data\n- Indoor sensors (no cameras)\n",
        ),
        background=Bilingual(
            "民生委員や地域包括支援センターの訪問だけでは、**すべての世帯に目が届きません**。\n",
            "Visits by welfare volunteers and community care centres **cannot reach every household**.\n",
        ),
        problem=Bilingual(
            "- 異変の発見が数日遅れることがある\n- 見守られる本人の抵抗感\n",
            "- A problem can go unnoticed for days\n- People dislike feeling watched\n",
        ),
        outcome=Bilingual(
            "- 異変を**24時間以内**に検知\n- 利用者の継続率80%以上\n",
            "- Problems detected **within 24 hours**\n- At least 80% of residents keep using it\n",
        ),
        themes=("福祉", "まちづくり"),
        poc_budget_jpy=8_000_000,
        selection_count=1,
        contact="デジタルサービス局 地域DX担当（mimamori@kyoso.example）",
        close_day=90,
    ),
    DemoChallenge(
        slug="tocho-workstyle-reform",
        bureau="digital-services",
        status=Status.RESULTS_PUBLISHED,
        author=DIGITAL2,
        reviewer=DIGITAL,
        title=Bilingual(
            "都庁の働き方改革：会議と決裁をもっと速く",
            "Workstyle reform at the Metropolitan Government: faster meetings and approvals",
        ),
        summary=Bilingual(
            "都庁では約17万人の職員が働いています。会議資料の準備や紙の決裁に多くの時間が使われており、"
            "職員が都民サービスに集中できる時間を増やすため、会議と決裁を効率化するツールの実証を行いました。",
            "Some 170,000 people work for the Metropolitan Government, and much of their time goes on "
            "preparing meeting papers and routing paper approvals. We ran a proof of concept of tools that "
            "streamline meetings and approvals, to give staff more time for the public.",
        ),
        body=Bilingual(
            "**会議の議事録作成と決裁の電子化**を、本庁の3部署で実証しました。\n\n"
            "- AIによる議事録の自動作成\n- スマートフォンからの決裁\n",
            "A proof of concept of **automatic minutes and electronic approvals** in three departments.\n\n"
            "- Minutes drafted by AI\n- Approvals from a smartphone\n",
        ),
        background=Bilingual(
            "テレワークの定着後も、**紙と対面を前提とした業務**が残っています。\n",
            "Remote work is here to stay, yet **some work still assumes paper and meeting in person**.\n",
        ),
        problem=Bilingual(
            "- 議事録の作成に会議と同じくらいの時間がかかる\n- 決裁者が不在だと手続きが止まる\n",
            "- Writing the minutes takes as long as the meeting\n"
            "- Approvals stop when the approver is away\n",
        ),
        outcome=Bilingual(
            "- 議事録作成時間を**70%削減**\n- 決裁にかかる日数の短縮\n",
            "- **70% less time** spent on minutes\n- Fewer days to get an approval\n",
        ),
        themes=("働き方", "行政DX"),
        poc_budget_jpy=5_000_000,
        selection_count=2,
        contact="デジタルサービス局 働き方改革担当（workstyle@kyoso.example）",
        close_day=-80,
    ),
    DemoChallenge(
        slug="urban-agriculture",
        bureau="industry-labor",
        status=Status.JUDGING,
        author=INDUSTRY,
        reviewer=ADMIN,
        title=Bilingual(
            "都市農業の持続化：テクノロジーで農地と担い手を守る",
            "Keeping urban farming going: technology for Tokyo's farmland and farmers",
        ),
        summary=Bilingual(
            "練馬区や世田谷区などに残る都市農地は、新鮮な農産物の供給だけでなく、"
            "防災空間や環境教育の場としても大切です。担い手の高齢化が進むなか、"
            "少ない人手で農地を維持し、収益を高めるテクノロジーを募集しました。",
            "The farmland that survives in wards such as Nerima and Setagaya supplies fresh produce and also "
            "serves as open space in a disaster and as a place to learn about the environment. As farmers "
            "grow older, we sought technology that keeps the land farmed with fewer hands and makes it pay.",
        ),
        body=Bilingual(
            "**都市農業の省力化と販路拡大**を、協力農家とともに実証します。\n\n"
            "- 小規模農地向けの自動化機器\n- 直売・飲食店への販路づくり\n",
            "A proof of concept of **labour-saving farming and new sales channels**, with partner "
            "farmers.\n\n"
            "- Automation for small plots\n- Direct sales to shops and restaurants\n",
        ),
        background=Bilingual(
            "都内の農地はこの30年で**およそ半分**に減りました。\n",
            "Tokyo has lost **about half** of its farmland in thirty years.\n",
        ),
        problem=Bilingual(
            "- 大型機械が入らない狭い農地\n- 相続時に農地を手放さざるを得ない\n",
            "- Plots too small for large machinery\n- Farmland sold off when it is inherited\n",
        ),
        outcome=Bilingual(
            "- 作業時間の**30%削減**\n- 新たな担い手・援農ボランティアの参加\n",
            "- **30% less** working time\n- New farmers and volunteer helpers taking part\n",
        ),
        themes=("環境", "まちづくり", "産業振興"),
        poc_budget_jpy=7_000_000,
        selection_count=2,
        contact="産業労働局 農林水産部 都市農業担当（toshi-nogyo@kyoso.example）",
        close_day=-25,
    ),
    DemoChallenge(
        slug="port-zero-emission",
        bureau="port-harbor",
        status=Status.ARCHIVED,
        author=PORT,
        reviewer=ADMIN,
        title=Bilingual(
            "東京港の脱炭素化：荷役機械の電動化",
            "A zero-emission Port of Tokyo: electrifying cargo-handling equipment",
        ),
        summary=Bilingual(
            "東京港のカーボンニュートラル実現に向け、ディーゼルで動くクレーンや荷役機械の電動化・"
            "水素化を進めています。稼働を止めずに切り替えるための運用と、充電・充填の最適化を実証しました。",
            "To make the Port of Tokyo carbon neutral, its diesel cranes and cargo-handling machines are "
            "being converted to electricity and hydrogen. We ran a proof of concept of switching over "
            "without stopping work, and of optimising charging and refuelling.",
        ),
        body=Bilingual(
            "**荷役機械の電動化に伴う運用最適化**の実証です（実証は終了しました）。\n\n"
            "- 充電スケジュールの最適化\n- 稼働データの可視化\n",
            "A proof of concept of **running electrified cargo-handling equipment** (now finished).\n\n"
            "- Optimised charging schedules\n- Operating data made visible\n",
        ),
        background=Bilingual(
            "港湾からのCO2排出の多くは**荷役機械と停泊中の船舶**によるものです。\n",
            "Much of a port's CO2 comes from **cargo-handling machines and ships at berth**.\n",
        ),
        problem=Bilingual(
            "- 充電中は機械が使えない\n- 電力需要のピークが重なる\n",
            "- Machines stand idle while charging\n- Demand for power peaks all at once\n",
        ),
        outcome=Bilingual(
            "- 稼働率を落とさない充電計画\n- **CO2排出量の削減効果**の算定\n",
            "- Charging plans that keep machines working\n- **CO2 reductions** measured\n",
        ),
        themes=("環境", "物流"),
        poc_budget_jpy=25_000_000,
        selection_count=1,
        contact="港湾局 港湾振興部 脱炭素担当（port-zero@kyoso.example）",
        close_day=-400,
    ),
)

QUESTIONS = (
    DemoQuestion(
        slug="nishi-shinjuku-smart-city",
        asker=MIRAI,
        body="実証で使用できるスマートポールの台数と設置場所を教えてください。",
        asked_day=-10,
        answer="都庁周辺に設置済みの12基をご利用いただけます。設置場所の図面は採択後にお渡しします。",
        answered_by=DIGITAL,
        answered_day=-8,
    ),
    DemoQuestion(
        slug="nishi-shinjuku-smart-city",
        asker=MIRAI,
        body="実証で取得した人流データを自社サービスの改善に利用してもよいですか。",
        asked_day=-7,
        answer="個人を特定できない統計データに限り、協定で定める範囲内でご利用いただけます。",
        answered_by=DIGITAL2,
        answered_day=-6,
    ),
    DemoQuestion(
        slug="nishi-shinjuku-smart-city",
        asker=KOSODATE,
        body="ベビーカーや車いすの利用者向けの経路案内も提案の対象になりますか。",
        asked_day=-1,
    ),
    DemoQuestion(
        slug="multilingual-disaster-information",
        asker=KOSODATE,
        body="やさしい日本語への対応も評価の対象になりますか。",
        asked_day=-20,
        answer="はい。やさしい日本語は多言語対応の一部として評価します。",
        answered_by=DIGITAL2,
        answered_day=-19,
    ),
    DemoQuestion(
        slug="sme-dx-support",
        asker=MIRAI,
        body="本社が都外にある企業も応募できますか。",
        asked_day=-30,
        answer="応募できます。ただし、実証は都内の事業所で行っていただく必要があります。",
        answered_by=INDUSTRY,
        answered_day=-28,
    ),
    DemoQuestion(
        slug="port-logistics-dx",
        asker=MIRAI,
        body="既存の搬入予約システムとAPIで連携することは可能ですか。",
        asked_day=-40,
        answer="既存システムの仕様書は採択後に開示します。連携の可否はその上でご相談ください。",
        answered_by=PORT,
        answered_day=-38,
    ),
)

# (email, slug): a startup founder follows a challenge for its updates.
FOLLOWS = ((MIRAI, "nishi-shinjuku-smart-city"),)


@dataclass(frozen=True)
class Timeline:
    """The public instants of a challenge, and its deadline before any extension."""

    applications_open_at: datetime
    questions_close_at: datetime
    applications_close_at: datetime
    screening_at: datetime
    pitch_at: datetime
    results_at: datetime
    original_close_at: datetime


@dataclass(frozen=True)
class Step:
    """One lifecycle event: from which state to which, by whom (None: the deadline), when, why."""

    from_status: Status
    to_status: Status
    actor: str | None
    comment: str
    at: datetime


# What the actor of the step into each state says.
COMMENTS = {
    Status.IN_REVIEW: "公開前の確認をお願いします。",
    Status.PUBLISHED: "内容を確認しました。公開します。",
    Status.CLOSED: "",  # as services.close_past_deadline writes: the page says "automatic (deadline)"
    Status.JUDGING: "書類審査を開始します。",
    Status.RESULTS_PUBLISHED: "審査結果を公開しました。",
    Status.ARCHIVED: "実証が終了したためアーカイブします。",
}


def jst(now: datetime, days: int, hour: int) -> datetime:
    """`hour`:00 JST on the day `days` after today in Japan, as a UTC instant."""
    day = now.astimezone(JST).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=JST).astimezone(UTC)


def timeline(spec: DemoChallenge, now: datetime) -> Timeline:
    """Open 10:00, question and application deadlines 17:00, screening, pitch and results after (JST)."""
    close = spec.close_day
    return Timeline(
        applications_open_at=jst(now, close - spec.window_days, 10),
        questions_close_at=jst(now, close - spec.extended_by_days - 7, 17),
        applications_close_at=jst(now, close, 17),
        screening_at=jst(now, close + 14, 10),
        pitch_at=jst(now, close + 35, 13),
        results_at=jst(now, close + 56, 10),
        original_close_at=jst(now, close - spec.extended_by_days, 17),
    )


def history(spec: DemoChallenge, times: Timeline, now: datetime) -> list[Step]:
    """The events that brought the challenge to its status."""
    if spec.status is Status.DRAFT:  # submitted, then sent back for changes
        return [
            Step(Status.DRAFT, Status.IN_REVIEW, spec.author, "確認をお願いします。", jst(now, -4, 15)),
            Step(
                Status.IN_REVIEW,
                Status.DRAFT,
                spec.reviewer,
                "PoC予算の内訳と評価指標を追記してください。",
                jst(now, -3, 11),
            ),
        ]
    published = times.applications_open_at
    closed = times.applications_close_at
    submitted = jst(now, -1, 16) if spec.status is Status.IN_REVIEW else published - timedelta(days=7)
    moments: dict[Status, tuple[str | None, str, datetime]] = {
        Status.IN_REVIEW: (spec.author, COMMENTS[Status.IN_REVIEW], submitted),
        Status.PUBLISHED: (spec.reviewer, COMMENTS[Status.PUBLISHED], published),
        Status.CLOSED: (None, COMMENTS[Status.CLOSED], closed),
        Status.JUDGING: (spec.author, COMMENTS[Status.JUDGING], closed + timedelta(hours=17)),
        Status.RESULTS_PUBLISHED: (spec.author, COMMENTS[Status.RESULTS_PUBLISHED], times.results_at),
        Status.ARCHIVED: (ADMIN, COMMENTS[Status.ARCHIVED], times.results_at + timedelta(days=90)),
    }
    path = LIFECYCLE[: LIFECYCLE.index(spec.status) + 1]
    return [Step(before, after, *moments[after]) for before, after in pairwise(path)]


def challenge_row(
    spec: DemoChallenge, bureau_id: int, people: dict[str, int], times: Timeline, steps: Sequence[Step]
) -> Challenge:
    """The Challenge row of `spec` (its material change, if any, is set by `insert_material_change`)."""
    is_public = spec.status in PUBLIC_STATUSES
    created_at = steps[0].at - timedelta(days=5)
    return Challenge(
        slug=spec.slug,
        bureau=bureau_id,
        status=spec.status.value,
        title_ja=spec.title.ja,
        title_en=spec.title.en,
        summary_ja=spec.summary.ja,
        summary_en=spec.summary.en,
        body_ja=spec.body.ja,
        body_en=spec.body.en,
        background_ja=spec.background.ja,
        background_en=spec.background.en,
        problem_ja=spec.problem.ja,
        problem_en=spec.problem.en,
        outcome_ja=spec.outcome.ja,
        outcome_en=spec.outcome.en,
        eligibility=json.dumps([vars(item) for item in spec.eligibility], ensure_ascii=False),
        poc_budget_jpy=spec.poc_budget_jpy,
        selection_count=spec.selection_count,
        contact=spec.contact,
        applications_open_at=times.applications_open_at,
        questions_close_at=times.questions_close_at,
        applications_close_at=times.original_close_at,  # as first published
        screening_at=times.screening_at,
        pitch_at=times.pitch_at,
        results_at=times.results_at,
        author=people[spec.author],
        approved_by=people[spec.reviewer] if is_public else None,
        created_at=created_at,
        updated_at=max(step.at for step in steps),
        published_at=times.applications_open_at if is_public else None,
        material_change_note="",
    )


async def insert_challenge(spec: DemoChallenge, bureau_id: int, people: dict[str, int], now: datetime) -> int:
    """Insert one challenge with its themes, events and material change; return its id."""
    times = timeline(spec, now)
    steps = history(spec, times, now)
    rows = await Challenge.insert(challenge_row(spec, bureau_id, people, times, steps)).run()
    challenge_id = int(rows[0]["id"])
    await ChallengeTheme.insert(
        *(ChallengeTheme(challenge=challenge_id, theme=theme) for theme in spec.themes)
    ).run()
    await ChallengeEvent.insert(
        *(
            ChallengeEvent(
                challenge=challenge_id,
                actor=people[step.actor] if step.actor else None,
                from_status=step.from_status.value,
                to_status=step.to_status.value,
                comment=step.comment,
                happened_at=step.at,
            )
            for step in steps
        )
    ).run()
    if spec.extended_by_days:
        await insert_material_change(spec, challenge_id, people[spec.author], times, now)
    return challenge_id


async def insert_material_change(
    spec: DemoChallenge, challenge_id: int, editor_id: int, times: Timeline, now: datetime
) -> None:
    """Extend the deadline after publication: a material revision and the public 更新 notice."""
    edited_at = jst(now, -5, 11)
    old, new = times.original_close_at, times.applications_close_at
    await ChallengeRevision.insert(
        ChallengeRevision(
            challenge=challenge_id,
            editor=editor_id,
            changes=json.dumps({"applications_close_at": [old.isoformat(), new.isoformat()]}),
            material=True,
            edited_at=edited_at,
        )
    ).run()
    note = (
        f"応募締切を{spec.extended_by_days}日間延長しました"
        f"（旧: {old.astimezone(JST):%Y-%m-%d %H:%M} JST → 新: {new.astimezone(JST):%Y-%m-%d %H:%M} JST）。"
    )
    update = Challenge.update(
        {
            Challenge.applications_close_at: new,
            Challenge.material_change_at: edited_at,
            Challenge.material_change_note: note,
            Challenge.updated_at: edited_at,
        }
    )
    await update.where(Challenge.id == challenge_id).run()


async def insert_questions(challenge_ids: dict[str, int], people: dict[str, int], now: datetime) -> None:
    """Insert the demo questions, answered or still waiting, and the demo follows."""
    await Question.insert(
        *(
            Question(
                challenge=challenge_ids[question.slug],
                asker=people[question.asker],
                body=question.body,
                asked_at=jst(now, question.asked_day, 14),
                answer=question.answer,
                answered_by=people[question.answered_by] if question.answered_by else None,
                answered_at=None if question.answered_day is None else jst(now, question.answered_day, 11),
            )
            for question in QUESTIONS
        )
    ).run()
    await Follow.insert(
        *(
            Follow(user=people[email], challenge=challenge_ids[slug], created_at=jst(now, -9, 20))
            for email, slug in FOLLOWS
        )
    ).run()


async def demo_ids() -> tuple[dict[str, int], dict[str, int]]:
    """Demo bureau ids by slug and demo people's ids by email; DemoAccountsMissing if any is absent."""
    bureau_rows = await Bureau.select(Bureau.id, Bureau.slug).where(Bureau.slug.is_in([*DEMO_BUREAUS])).run()
    user_rows = await User.select(User.id, User.email).where(User.email.is_in([*DEMO_PEOPLE])).run()
    bureaus = {row["slug"]: int(row["id"]) for row in bureau_rows}
    people = {row["email"]: int(row["id"]) for row in user_rows}
    missing = [slug for slug in DEMO_BUREAUS if slug not in bureaus]
    missing += [email for email in DEMO_PEOPLE if email not in people]
    if missing:
        raise DemoAccountsMissing(
            f"Demo accounts missing: {', '.join(missing)}. Load them first with `python -m app seed-demo`."
        )
    return bureaus, people


async def seed_demo_challenges(*, now: datetime) -> list[str]:
    """Insert the demo challenges with history, Q&A and follows in one transaction; return the slugs."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")
    async with Challenge._meta.db.transaction():
        bureaus, people = await demo_ids()
        challenge_ids: dict[str, int] = {}
        for spec in CHALLENGES:
            challenge_ids[spec.slug] = await insert_challenge(spec, bureaus[spec.bureau], people, now)
        await insert_questions(challenge_ids, people, now)
    return list(challenge_ids)
