"""A FieldSync client in Python, written from PROTOCOL.md (standard library only)."""

from .client import Device, Refused, base32
from .merge import Replica, Schema, value_from_json, value_to_json

__all__ = ["Device", "Refused", "Replica", "Schema", "base32", "value_from_json", "value_to_json"]
