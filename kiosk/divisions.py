"""GB/T 2260 administrative divisions of the cities the packs cover (names for pickers and receipts)."""

from __future__ import annotations

PROVINCES = {"33": "浙江省", "41": "河南省", "36": "江西省", "37": "山东省", "42": "湖北省"}
CITIES = {"330300": "温州市", "411000": "许昌市", "360500": "新余市", "371500": "聊城市", "420100": "武汉市"}
DISTRICTS = {
    "330302": "鹿城区", "330303": "龙湾区", "330304": "瓯海区", "330305": "洞头区", "330324": "永嘉县",
    "330326": "平阳县", "330327": "苍南县", "330381": "瑞安市", "330382": "乐清市", "330383": "龙港市",
    "411002": "魏都区", "411003": "建安区", "411024": "鄢陵县", "411025": "襄城县", "411081": "禹州市",
    "411082": "长葛市",
    "360502": "渝水区", "360521": "分宜县",
    "371502": "东昌府区", "371503": "茌平区", "371521": "阳谷县", "371522": "莘县", "371524": "东阿县",
    "371525": "冠县", "371526": "高唐县", "371581": "临清市",
    "420102": "江岸区", "420103": "江汉区", "420104": "硚口区", "420105": "汉阳区", "420106": "武昌区",
}


def districts_of(city_code: str) -> dict[str, str]:
    """The districts under a city code such as 330300, in code order."""
    return {code: name for code, name in sorted(DISTRICTS.items()) if code[:4] == city_code[:4]}


def name_of(code: str) -> str | None:
    return DISTRICTS.get(code) or CITIES.get(code)


def place_names(region_code: str) -> tuple[str, ...]:
    """Names an address in the region can start with: the province for a 2-digit code; for a city
    (4 digits) the city and each of its districts and counties (an address may name a county
    without its city: 江西省分宜县…)."""
    if len(region_code) == 2:
        return (PROVINCES[region_code],) if region_code in PROVINCES else ()
    city = CITIES.get(region_code[:4] + "00")
    return ((city,) if city else ()) + tuple(districts_of(region_code[:4] + "00").values())
