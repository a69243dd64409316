"""SYNC.md §11 test vector, shared by the protocol and central tests."""

from __future__ import annotations

DEVICE_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
DEVICE_PUB = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
DEVICE_ID = "d_21fe31dfa154a261626bf854046fd227"
RECORD_PRIVATE = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
RK = "f35e5616160a30bf"
RECEIPT_SEED = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
RECEIPT_KEY_ID = "39f713d0a644253f"
SIGNED = {
    "created_at": "2025-01-01T00:00:00.000Z", "device_id": DEVICE_ID, "kind": "feedback",
    "payload": "G_h9AXHY1RO2UUOH8VAvRoqWiunrolaJXp_FiLzEIwFCAEpsUBlMm-7G10mgOgsoRC5fym8FPZfe77kM3OznsEY7gHzjJy3K",
    "record_id": "01943e2a-5c00-7000-8000-000000000001", "rk": RK, "schema_version": 1, "seq": 1,
    "suite": "X25519-SHA256-CHACHA20POLY1305", "v": 1,
}
SIGNING_INPUT = (
    b'estation-record-v1\n{"created_at":"2025-01-01T00:00:00.000Z","device_id":"d_21fe31dfa154a261626bf854046fd227",'
    b'"kind":"feedback","payload":"G_h9AXHY1RO2UUOH8VAvRoqWiunrolaJXp_FiLzEIwFCAEpsUBlMm-7G10mgOgsoRC5fym8FPZfe77kM3'
    b'OznsEY7gHzjJy3K","record_id":"01943e2a-5c00-7000-8000-000000000001","rk":"f35e5616160a30bf","schema_version":1,'
    b'"seq":1,"suite":"X25519-SHA256-CHACHA20POLY1305","v":1}'
)
RECORD_SIG = "TVkpcW8Lf-aTSiV0HDChgGgtOLsPmj0PSrcYqKOMS5nn9maJGhrpbM2maJOMQAPYIzuzh9BZN6Nlv7qwS61OAw"
RECORD_H = "4e0c564a2622dcddbe11bfb41114289fde7d2ac72d9a90b17de4ebec3c93790b"
RECEIVED_AT = "2025-01-01T00:00:05.000Z"
RECEIPT_SIG = "oNY7B1Po3Meem6CFQ4VGWpw_z8TsBPnuPpYw-SK-_-mHGPYxTT8RAIhkMKp7b1h-47V7OiIGoel1wVYKMq23Cw"
REQUEST_SIG = "faq8Z78C_UiGHtOMDrd8aoBhGL0lCztGP6LBkB42GXh7QMEj_qXyeTyfF8FPhGbrgcPIOBfMSiDUyKAu0yX6Bg"
PLAINTEXT = {"rating": 5, "text": "ok"}
