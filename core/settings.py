"""The client's settings, declared in one place with their types and defaults.

Every setting the bench client reads is listed in :data:`SETTINGS` (name, type, default, allowed
values); nothing else reads or writes ``settings.json``. A value that is missing, of the wrong type
or not allowed falls back to its default with a logged warning, so a hand-edited or old file never
stops the app from starting. ``device_id`` is made once, on first run, and then kept: the hub
numbers this install's outbox by it.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from core import paths
from core.scale import BAUD_RATES, PROTOCOLS

log = logging.getLogger("packdesk.settings")

DOC_TYPES = ("label", "pick_list", "packing_slip")
LABEL_SIZES = ("100x150", "100x180", "76x130")
WAVE_SIZES = tuple(range(1, 201))
QTY_ENTRY_LIMITS = tuple(range(1, 1000))


@dataclass(frozen=True)
class SettingSpec:
    """One declared setting: its type, default and (optionally) the values it may take."""

    name: str
    type: type
    default: Callable[[], Any]
    choices: tuple[Any, ...] | None = None
    help: str = ""

    def check(self, value: Any) -> bool:
        if self.type is dict:
            return isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            )
        if self.type is str and value is None:
            return False
        if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
            return False
        return self.choices is None or value in self.choices


def _new_device_id() -> str:
    return str(uuid.uuid4())


#: Every client setting. Add new ones here (and to :class:`Settings`), nowhere else.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "hub_url", str, lambda: "", help="Hub base URL, e.g. http://10.0.0.5:8700; empty: embedded hub"
    ),
    SettingSpec("station", str, lambda: "", help="This PC's station name, e.g. B1-PC"),
    SettingSpec("bench", str, lambda: "", help="The bench this station serves; empty for a desk PC"),
    SettingSpec("device_id", str, _new_device_id, help="This install's UUID (outbox seqs are per device)"),
    SettingSpec("language", str, lambda: "zh_CN", ("zh_CN", "en")),
    SettingSpec("bench_flow", str, lambda: "print-first", ("print-first", "pack-first")),
    SettingSpec("handover", str, lambda: "at_pack", ("at_pack", "batch"),
                help="When a packed parcel ships: at_pack (the pack flow hands it over at once) or batch "
                     "(it waits for the handover scan, Ctrl+H, and ships when the batch closes)"),
    SettingSpec(
        "printers", dict, dict, help="Default printer per document type: label, pick_list, packing_slip"
    ),
    SettingSpec("label_size", str, lambda: "100x150", LABEL_SIZES),
    SettingSpec("wave_size", int, lambda: 20, WAVE_SIZES, help="Orders per printed wave (pick list + labels)"),
    SettingSpec("max_qty_entry", int, lambda: 50, QTY_ENTRY_LIMITS,
                help="Pack mode: the most units one typed quantity (scan, *, number) may count; more must be scanned"),
    SettingSpec("scale_port", str, lambda: "",
                help="The bench scale's serial port (COM3, /dev/ttyUSB0); empty: no scale, packing never weighs"),
    SettingSpec("scale_baud", int, lambda: 9600, BAUD_RATES, help="The scale's baud rate (8 data bits, no parity)"),
    SettingSpec("scale_protocol", str, lambda: "ad", tuple(PROTOCOLS),
                help="The scale's continuous output format (docs/scale.md)"),
)

_SPECS = {spec.name: spec for spec in SETTINGS}


@dataclass
class Settings:
    """The loaded settings. Change fields, then :meth:`save`."""

    hub_url: str = ""
    station: str = ""
    bench: str = ""
    device_id: str = field(default_factory=_new_device_id)
    language: str = "zh_CN"
    bench_flow: str = "print-first"
    handover: str = "at_pack"
    printers: dict[str, str] = field(default_factory=dict)
    label_size: str = "100x150"
    wave_size: int = 20
    max_qty_entry: int = 50
    scale_port: str = ""
    scale_baud: int = 9600
    scale_protocol: str = "ad"
    path: Path | None = field(default=None, compare=False, repr=False)

    def printer_for(self, doc_type: str) -> str | None:
        """The default printer for a document type, or None to ask."""
        return self.printers.get(doc_type) or None

    def to_dict(self) -> dict[str, Any]:
        return {spec.name: getattr(self, spec.name) for spec in SETTINGS}

    def save(self, path: Path | None = None) -> None:
        """Write the settings atomically (a crash mid-write leaves the old file)."""
        target = path or self.path or paths.settings_path()
        problems = [spec.name for spec in SETTINGS if not spec.check(getattr(self, spec.name))]
        if problems:
            from core.errors import ValidationFailed

            raise ValidationFailed(f"Invalid settings: {', '.join(problems)}.", details={"fields": problems})
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        self.path = target


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file; bad or unknown entries become defaults with a warning.

    A missing file, or one without a valid ``device_id``, is (re)written so the device ID made now
    is the one used from now on. A file that is not JSON at all is kept aside as ``.bad`` (never
    deleted) and defaults are used.
    """
    target = path or paths.settings_path()
    raw: dict[str, Any] = {}
    if target.exists():
        try:
            loaded = json.loads(target.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                raw = loaded
            else:
                log.warning("Settings file %s is not a JSON object; using defaults", target)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            backup = target.with_suffix(target.suffix + ".bad")
            log.warning(
                "Settings file %s is unreadable (%s); kept as %s, using defaults", target, exc, backup
            )
            try:
                os.replace(target, backup)
            except OSError:
                log.warning("Could not keep the unreadable settings file aside", exc_info=True)
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        if spec.name not in raw:
            values[spec.name] = spec.default()
            continue
        value = raw[spec.name]
        if spec.check(value):
            values[spec.name] = dict(value) if isinstance(value, dict) else value
        else:
            log.warning("Setting %s=%r is not valid; using the default", spec.name, value)
            values[spec.name] = spec.default()
    for name in raw.keys() - _SPECS.keys():
        log.warning("Unknown setting %r in %s ignored", name, target)
    if not _valid_uuid(values["device_id"]):
        values["device_id"] = _new_device_id()
    settings = Settings(**values, path=target)
    if raw.get("device_id") != settings.device_id:
        settings.save(target)
    return settings


def _valid_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


assert {f.name for f in fields(Settings)} - {"path"} == set(_SPECS), "Settings and SETTINGS disagree"
