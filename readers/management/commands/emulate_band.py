"""manage.py emulate_band: tell the running emulators (`manage.py run_emulators`) what happens to a band tag."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter

from floorplans.models import Door, Zone
from readers.emulators.control import CARRY_SPEED_M_S, CONTROL_TOPIC, send_command
from tracking.models import Tag, TrackedObject

EXAMPLES = """examples:
  manage.py emulate_band cut B001                      strap cut (tamper)
  manage.py emulate_band loose B001                    strap loose
  manage.py emulate_band close B001                    strap closed (snug) again
  manage.py emulate_band battery B001 8                battery at 8 %
  manage.py emulate_band press M001                    press the button (shown for one heartbeat)
  manage.py emulate_band shield B001 on                wrap in foil: the tag goes silent (off: heard again)
  manage.py emulate_band carry B001 --to D-L2-STAIR-A  carry it from where it is to just past that door
  manage.py emulate_band carry B001 --to 2E-NUR        ... or into a zone

The emulators answer on <topic>/ack; no answer within --wait seconds is an error (is run_emulators running?)."""
STRAP = {"cut": "cut", "loose": "loose", "close": "closed"}
ACTIONS = (*STRAP, "battery", "press", "shield", "carry")
BAND_KINDS = (TrackedObject.Kind.INFANT, TrackedObject.Kind.MOTHER)


class _Formatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the examples kept as written."""


def band_command(action: str, tag_id: str, value: str | None, *, to: str | None, speed_m_s: float) -> dict[str, Any]:
    """The CLI's words -> the JSON command of readers/emulators/control.py. Raises CommandError."""
    needs_value = action in ("battery", "shield")
    if needs_value and value is None:
        raise CommandError(f"{action} needs a value: `battery {tag_id} 8` (percent) or `shield {tag_id} on|off`")
    if not needs_value and value is not None:
        raise CommandError(f"{action} takes no value (got {value!r})")
    if action in STRAP:
        return {"cmd": "strap", "tag": tag_id, "state": STRAP[action]}
    if action == "battery":
        try:
            pct = float(str(value).rstrip("%"))
        except ValueError:
            raise CommandError(f"battery: {value!r} is not a percentage") from None
        if not 0 <= pct <= 100:
            raise CommandError(f"battery: {pct:g} % is not within 0..100")
        return {"cmd": "battery", "tag": tag_id, "pct": pct}
    if action == "press":
        return {"cmd": "press", "tag": tag_id}
    if action == "shield":
        if str(value).lower() not in ("on", "off"):
            raise CommandError(f"shield: {value!r}, want on or off")
        return {"cmd": "shield", "tag": tag_id, "on": str(value).lower() == "on"}
    if not to:
        raise CommandError("carry needs --to <door or zone code>, e.g. --to D-L2-STAIR-A")
    return {"cmd": "carry", "tag": tag_id, "to": to, "speed_m_s": speed_m_s}


def known_tag(tag_id: str, *, band: bool) -> str:
    """The tag as stored (case as in the database); a band action needs an infant's or a mother's tag."""
    tag = Tag.objects.filter(tag_id__iexact=tag_id).select_related("tracked_object").first()
    if tag is None:
        raise CommandError(f"no tag {tag_id!r}; the demo's infants wear B001-B006 (manage.py load_demo)")
    if band:
        carrier = getattr(tag, "tracked_object", None)
        if carrier is None or carrier.kind not in BAND_KINDS:
            what = f"worn by a {carrier.kind}" if carrier is not None else "not worn by anyone"
            raise CommandError(f"{tag.tag_id} is {what}: only infant and mother bands have a strap, a button "
                               "and a battery to emulate")
    return tag.tag_id


def known_place(code: str) -> str:
    if Door.objects.filter(code=code).exists() or Zone.objects.filter(code=code).exists():
        return code
    raise CommandError(f"no door or zone {code!r}; the maternity exits are D-L2-STAIR-A, D-L2-STAIR-B, D-L2-LIFTS")


class Command(BaseCommand):
    help = "Emulate what happens to an infant or mother band tag (strap, battery, button, foil), or carry a tag."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser(prog_name, subcommand, formatter_class=_Formatter, epilog=EXAMPLES, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=ACTIONS, help="what happens")
        parser.add_argument("tag", help="the tag id, e.g. B001")
        parser.add_argument("value", nargs="?", help="battery: percent; shield: on or off")
        parser.add_argument("--to", help="carry: a door code (to just past the door) or a zone code")
        parser.add_argument("--speed", type=float, default=CARRY_SPEED_M_S, help="carry: walking speed, m/s")
        parser.add_argument("--topic", default=CONTROL_TOPIC, help="the emulators' control topic")
        parser.add_argument("--wait", type=float, default=3.0, help="seconds to wait for the emulators' answer")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        tag_id = known_tag(options["tag"], band=action != "carry")
        command = band_command(action, tag_id, options["value"], to=options["to"], speed_m_s=options["speed"])
        if action == "carry":
            known_place(command["to"])
        try:
            answer = send_command(command, host=settings.MQTT_HOST, port=settings.MQTT_PORT,
                                  topic=options["topic"], wait_s=options["wait"])
        except OSError as exc:
            raise CommandError(f"MQTT broker {settings.MQTT_HOST}:{settings.MQTT_PORT}: {exc}") from None
        if answer is None:
            raise CommandError(f"no answer from the emulators in {options['wait']:g} s: "
                               "is `manage.py run_emulators` running?")
        if not answer.get("ok"):
            raise CommandError(str(answer.get("message")))
        self.stdout.write(str(answer.get("message")))
