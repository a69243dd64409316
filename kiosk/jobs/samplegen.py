"""Deterministic, realistic job postings for the sample feed, tests and benches.

The same (count, seed, date) always gives the same postings: jobs residents look
for at a kiosk (保安 保洁 司机 电工 厨师 服务员 快递员 护工 育婴员 收银员 …) and
公益性岗位 (public-welfare posts for people with employment difficulties), spread
over the districts of the seed cities (温州, 许昌, 新余, 聊城).  About a fifth have
already expired on `date`, so expiry filtering shows.

    python -m kiosk.jobs.samplegen                 # rewrites kiosk/jobs/sample_feed.json
    python -m kiosk.jobs.samplegen --count 10000 --jsonl -o /tmp/feed.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path

from kiosk.divisions import districts_of

SAMPLE_PATH = Path(__file__).with_name("sample_feed.json")
SAMPLE_DATE = dt.date(2026, 11, 20)  # the sample's "generated" day; pass --on near it
SAMPLE_SEED = 2260

CITIES = {  # city: (area code, feed source, monthly minimum wage, {district code: name})
    "温州市": ("0577", "温州市人力资源市场", 2490, districts_of("330300")),
    "许昌市": ("0374", "许昌市公共就业服务中心", 2100, districts_of("411000")),
    "新余市": ("0790", "新余市就业创业服务中心", 2000, districts_of("360500")),
    "聊城市": ("0635", "聊城市公共就业人才服务中心", 2200, districts_of("371500")),
}
ROADS = "人民路 解放路 建设路 中山路 新华路 光明路 文化路 胜利路 工业路 府前街 车站大道 滨江路".split()
BRANDS = "恒安 鑫盛 宏达 顺通 金诚 华信 永辉 新城 安泰 嘉禾 瑞丰 天和 众诚 联发 惠民 康宁".split()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"
HOURS = [
    "8:00-17:00，月休4天", "两班倒，每班12小时", "做一休一", "夜班 20:00-8:00",
    "9:00-18:00，双休", "早班 6:00-14:00", "弹性工作时间", "8:30-17:30，单休",
]

# category: (titles, employer suffixes, salary band as multiples of the minimum wage, requirements)
JOBS = {
    "安保": (["保安员", "保安", "门卫保安", "夜班保安", "商场保安", "小区保安队长"],
           ["保安服务有限公司", "物业管理有限公司"], (1.2, 2.0), ["持保安员证优先", "退伍军人优先"]),
    "保洁": (["保洁员", "保洁", "物业保洁", "医院保洁", "商场保洁员", "写字楼保洁"],
           ["物业管理有限公司", "家政服务有限公司", "环境卫生服务有限公司"], (1.0, 1.5), ["能吃苦耐劳"]),
    "交通运输": (["司机", "货车司机", "班车司机", "网约车司机", "商务车司机", "渣土车司机"],
             ["物流有限公司", "客运有限公司", "汽车租赁有限公司"], (1.9, 3.4), ["持C1驾照，驾龄3年以上", "持A2驾照", "熟悉本地路线"]),
    "技工": (["电工", "维修电工", "物业电工", "水电工", "电焊工", "空调安装工"],
           ["机电工程有限公司", "物业管理有限公司", "电器有限公司"], (1.9, 3.2), ["持低压电工作业证", "有焊工证优先"]),
    "餐饮": (["厨师", "中餐厨师", "食堂厨师", "面点师", "服务员", "餐厅服务员", "传菜员", "洗碗工"],
           ["餐饮管理有限公司", "大酒店", "酒店管理有限公司"], (1.3, 2.8), ["持健康证", "有厨师证优先", "形象端正"]),
    "物流配送": (["快递员", "快递分拣员", "外卖骑手", "仓库理货员", "配送员"],
             ["速递有限公司", "供应链管理有限公司", "物流有限公司"], (1.8, 3.5), ["会骑电动车", "熟悉本地路线"]),
    "养老护理": (["护工", "医院护工", "养老护理员", "护理员"],
             ["养老服务中心", "康复医院", "护理院"], (1.5, 2.5), ["持养老护理员证优先", "有爱心耐心"]),
    "家政服务": (["育婴员", "月嫂", "住家保姆", "钟点工", "育儿嫂"],
             ["家政服务有限公司", "母婴护理中心"], (1.6, 4.0), ["持育婴员证", "持母婴护理证优先", "持健康证"]),
    "商贸零售": (["收银员", "超市收银员", "理货员", "营业员", "导购员"],
             ["超市有限公司", "商贸有限公司", "购物中心"], (1.1, 1.8), ["会使用收银系统", "能适应倒班"]),
    "制造": (["普工", "操作工", "包装工", "质检员", "仓管员"],
           ["鞋业有限公司", "电器有限公司", "服饰有限公司", "机械有限公司"], (1.5, 2.8), ["能适应倒班", "视力良好"]),
}
# 公益性岗位: posts funded for people with employment difficulties (minimum wage).
PUBLIC_WELFARE_TITLES = [
    "公益性岗位-社区保洁员", "公益性岗位-公共设施管护员", "公益性岗位-社区协管员",
    "公益性岗位-交通协管员", "公益性岗位-河道巡查员", "公益性岗位-护林员", "公益性岗位-社区治安巡逻员",
]
PUBLIC_WELFARE_EMPLOYERS = ["街道办事处", "社区居民委员会", "镇人民政府"]


def _posting(rng: random.Random, i: int, date: dt.date) -> dict:
    city = rng.choice(list(CITIES))
    area, source, min_wage, districts = CITIES[city]
    code = rng.choice(list(districts))
    district = districts[code]
    road = f"{rng.choice(ROADS)}{rng.randint(1, 400)}号"
    age = f"{rng.choice([18, 20, 25])}-{rng.choice([45, 50, 55, 60])}岁"
    public_welfare = rng.random() < 0.08
    if public_welfare:
        title, category = rng.choice(PUBLIC_WELFARE_TITLES), "公益性岗位"
        employer = f"{city}{district}{rng.choice(BRANDS)}{rng.choice(PUBLIC_WELFARE_EMPLOYERS)}"
        low = high = min_wage
        requirements = f"{age}，身体健康；限登记失业的就业困难人员，持《就业创业证》"
        hours = "8:00-17:00，月休4天"
    else:
        category = rng.choice(list(JOBS))
        titles, suffixes, (lo, hi), extras = JOBS[category]
        title = rng.choice(titles)
        employer = f"{city[:2]}{rng.choice(BRANDS)}{rng.choice(suffixes)}"
        low = int(min_wage * rng.uniform(lo, (lo + hi) / 2)) // 100 * 100
        high = max(low, int(min_wage * rng.uniform((lo + hi) / 2, hi)) // 100 * 100)
        requirements = f"{age}，身体健康，{rng.choice(['初中', '高中', '不限'])}学历，{rng.choice(extras)}"
        hours = rng.choice(HOURS)
    posted_on = date - dt.timedelta(days=rng.randint(0, 90))
    expires_on = posted_on + dt.timedelta(days=rng.choice([30, 45, 60, 90, 180]))
    return {
        "id": f"JOB-{i:06d}",
        "title": title,
        "employer": employer,
        "district_code": code,
        "address": f"{city}{district}{road}",
        "salary_min": low,
        "salary_max": high,
        "category": category,
        "public_welfare": public_welfare,
        "hours": hours,
        "requirements": requirements,
        "contact": f"{rng.choice(SURNAMES)}{rng.choice('先生 女士'.split())} {area}-{rng.randint(55000000, 89999999)}",
        "posted_on": posted_on.isoformat(),
        "expires_on": expires_on.isoformat(),
        "source": rng.choice([source, source, f"{city}零工市场"]),
    }


def generate(count: int, *, seed: int = SAMPLE_SEED, date: dt.date = SAMPLE_DATE) -> list[dict]:
    """`count` posting dicts (feed JSON), the same for the same arguments."""
    rng = random.Random(seed)
    return [_posting(rng, i, date) for i in range(1, count + 1)]


TRAINING_COURSES = [
    ("育婴员职业技能培训", "家政服务"), ("养老护理员培训", "养老护理"), ("中式烹调师培训", "餐饮"),
    ("电工上岗证培训", "技工"), ("电子商务直播培训", "商贸零售"), ("叉车司机培训", "物流配送"),
    ("保洁服务技能培训", "保洁"), ("创业培训（SYB）", "创业"),
]


def training_courses(count: int, *, seed: int = SAMPLE_SEED, date: dt.date = SAMPLE_DATE) -> list[dict]:
    """Free subsidised training courses, in the posting format with category "training"
    (001 §4: the "1 training" of the 131 service).  A separate random stream, so adding
    them leaves the job postings unchanged."""
    rng = random.Random(seed + 1)
    out = []
    for i in range(1, count + 1):
        city = rng.choice(list(CITIES))
        area, source, _, districts = CITIES[city]
        code = rng.choice(list(districts))
        title, field = rng.choice(TRAINING_COURSES)
        posted_on = date - dt.timedelta(days=rng.randint(0, 30))
        out.append({
            "id": f"TRN-{i:04d}", "title": title, "employer": f"{city}职业技能培训中心",
            "district_code": code, "address": f"{city}{districts[code]}{rng.choice(ROADS)}{rng.randint(1, 400)}号",
            "salary_min": 0, "salary_max": 0, "category": "training", "public_welfare": False,
            "hours": f"{rng.choice([10, 15, 20, 30])}天，白天班", "requirements": f"16-60岁，有意从事{field}工作，免费培训，结业发证",
            "contact": f"{rng.choice(SURNAMES)}老师 {area}-{rng.randint(55000000, 89999999)}",
            "posted_on": posted_on.isoformat(), "expires_on": (posted_on + dt.timedelta(days=60)).isoformat(),
            "source": source,
        })
    return out


def snapshot(count: int, *, seed: int = SAMPLE_SEED, date: dt.date = SAMPLE_DATE) -> dict:
    postings = generate(count, seed=seed, date=date) + training_courses(max(1, count // 15), seed=seed, date=date)
    return {"version": 1, "generated": date.isoformat(), "postings": postings}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.jobs.samplegen", description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--date", type=dt.date.fromisoformat, default=SAMPLE_DATE)
    parser.add_argument("--jsonl", action="store_true", help="JSON Lines instead of a snapshot object")
    parser.add_argument("-o", "--output", type=Path, default=SAMPLE_PATH)
    args = parser.parse_args(argv)
    if args.jsonl:
        lines = (json.dumps(p, ensure_ascii=False) for p in generate(args.count, seed=args.seed, date=args.date))
        text = "\n".join(lines) + "\n"
    else:
        text = json.dumps(snapshot(args.count, seed=args.seed, date=args.date), ensure_ascii=False, indent=1) + "\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {args.count} postings" + ("" if args.jsonl else " and the training courses"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
