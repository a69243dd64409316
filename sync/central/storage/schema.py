"""The central schema, one DDL for both engines ({blob}/{real}/{bigint} filled per engine)."""

from __future__ import annotations

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS schema_meta (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS central_keys (
    key_id TEXT PRIMARY KEY, purpose TEXT NOT NULL, private {blob} NOT NULL,
    created_at TEXT NOT NULL, retired INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS enroll_tokens (
    token_hash TEXT PRIMARY KEY, label TEXT NOT NULL, uses_left INTEGER NOT NULL,
    expires_at {real} NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS operator_tokens (token_hash TEXT PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    session_hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL, expires_at {real} NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, public_key {blob} NOT NULL, token_hash TEXT NOT NULL, label TEXT NOT NULL,
    hardware_id TEXT NOT NULL, software_version TEXT NOT NULL, enrolled_at TEXT NOT NULL,
    revoked_at TEXT, revoke_reason TEXT, last_seen {real}, last_heartbeat TEXT);
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, seq {bigint} NOT NULL, kind TEXT NOT NULL,
    record_sha256 TEXT NOT NULL, record TEXT NOT NULL, received_at TEXT NOT NULL, receipt TEXT NOT NULL,
    UNIQUE (device_id, seq));
CREATE TABLE IF NOT EXISTS heartbeats (
    device_id TEXT NOT NULL, received {real} NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS heartbeats_by_time ON heartbeats (received);
CREATE TABLE IF NOT EXISTS nonces (
    device_id TEXT NOT NULL, nonce TEXT NOT NULL, seen {real} NOT NULL, PRIMARY KEY (device_id, nonce));
CREATE INDEX IF NOT EXISTS nonces_by_time ON nonces (seen);
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT NOT NULL, version {bigint} NOT NULL, snapshot TEXT NOT NULL, content TEXT NOT NULL,
    expires_in_s {bigint} NOT NULL, published_at TEXT NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS feed_rotations (seq {bigint} PRIMARY KEY, rotation TEXT NOT NULL);
"""


def statements(types: dict[str, str]) -> list[str]:
    return [s.strip() for s in DDL.format(**types).split(";") if s.strip()]
