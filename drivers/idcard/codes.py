"""Code tables of the ID-card chip (IDCARD.md §5, §9).

Kept separate from the codec so the UI and records can use the same tables.
"""

from __future__ import annotations

from enum import Enum

# GB/T 2261.1-2003 sex codes -> contract value.
SEX_BY_CODE = {"0": "U", "1": "M", "2": "F", "9": "U"}
# The code we write for a contract value (the simulator and round-trip tests).
SEX_CODE_FOR = {"M": "1", "F": "2", "U": "0"}

# GB 3304-91, contract value = name without the suffix 族; plus 97/98 in wide use.
ETHNICITY_BY_CODE = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗",
    "07": "彝", "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗",
    "13": "瑶", "14": "白", "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣",
    "19": "黎", "20": "傈僳", "21": "佤", "22": "畲", "23": "高山", "24": "拉祜",
    "25": "水", "26": "东乡", "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土",
    "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南",
    "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米", "41": "塔吉克", "42": "怒",
    "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂", "47": "保安",
    "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲",
    "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}
ETHNICITY_CODE_FOR = {name: code for code, name in ETHNICITY_BY_CODE.items()}


class Action(Enum):
    """What the driver does after a status byte (IDCARD.md §5, 'driver action')."""

    CONTINUE = "continue"
    NO_CARD = "no card in the field"
    RESEND = "resend the command once"
    RESTART = "restart at find card"
    NOT_ID_CARD = "not an ID card"
    FATAL = "reader fault: maintenance needed"


class Status:
    """SW3 values seen on the wire, with meaning and driver action."""

    OK = 0x90
    FOUND = 0x9F
    NO_ITEM = 0x91
    BAD_CHECKSUM = 0x10
    BAD_LENGTH = 0x11
    COMMAND_ERROR = 0x21
    NOT_PERMITTED = 0x23
    UNRECOGNISED = 0x24
    CARD_AUTH_FAILED = 0x31
    SAM_AUTH_FAILED = 0x32
    VERIFY_FAILED = 0x33
    FINGERPRINT_VERIFY_FAILED = 0x37
    INFO_LENGTH_ERROR = 0x3F
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    NO_CARD = 0x80
    SELECT_FAILED = 0x81


STATUS_TABLE: dict[int, tuple[str, Action]] = {
    Status.OK: ("success", Action.CONTINUE),
    Status.FOUND: ("card found", Action.CONTINUE),
    Status.NO_ITEM: ("the card holds no such item", Action.CONTINUE),
    Status.BAD_CHECKSUM: ("reader received a frame with a bad checksum", Action.RESEND),
    Status.BAD_LENGTH: ("reader received a frame with a bad length", Action.RESEND),
    Status.COMMAND_ERROR: ("command error (bad value or wrong sequence)", Action.RESTART),
    Status.NOT_PERMITTED: ("operation not permitted (SAM rights)", Action.FATAL),
    Status.UNRECOGNISED: ("unrecognised error", Action.RESTART),
    Status.CARD_AUTH_FAILED: ("card failed to authenticate the SAM", Action.RESTART),
    Status.SAM_AUTH_FAILED: ("SAM failed to authenticate the card", Action.RESTART),
    Status.VERIFY_FAILED: ("information verification error", Action.RESTART),
    Status.FINGERPRINT_VERIFY_FAILED: ("fingerprint verification error", Action.RESTART),
    Status.INFO_LENGTH_ERROR: ("information length error", Action.RESTART),
    Status.UNKNOWN_CARD_TYPE: ("unrecognised card type", Action.NOT_ID_CARD),
    Status.READ_FAILED: ("read failed (card moved or removed)", Action.RESTART),
    Status.RANDOM_FAILED: ("getting a random number from the card failed", Action.RESTART),
    Status.SAM_SELF_TEST_FAILED: ("SAM self-test failed", Action.FATAL),
    Status.SAM_NOT_AUTHORISED: ("SAM not authorised", Action.FATAL),
    Status.NO_CARD: ("no card in the field", Action.NO_CARD),
    Status.SELECT_FAILED: ("select card failed", Action.RESTART),
}


def describe_status(sw3: int) -> tuple[str, Action]:
    """Meaning and action for a status byte; unknown codes restart the sequence."""
    return STATUS_TABLE.get(sw3, (f"unknown status 0x{sw3:02X}", Action.RESTART))
