"""Kiosk side of the sync protocol (SYNC.md): identity, outbox, uploader, heartbeats.

`sync.protocol` holds the wire format shared with the central service in `sync.central`.
"""
