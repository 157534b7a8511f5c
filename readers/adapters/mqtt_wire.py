"""MQTT 3.1.1 packets, as bytes: what a subscriber sends, and a reader that splits what the broker sends.

Pure (no sockets), so every edge case is a table row in tests/readers/test_mqtt_wire.py. The client that
uses it is `mqtt_client.MqttSubscriber`. Only the subscriber's side of the protocol is here: CONNECT,
SUBSCRIBE, PUBACK, PINGREQ and DISCONNECT out; CONNACK, SUBACK, PUBLISH (QoS 0 and 1) and PINGRESP in.
`encode_publish` exists for emulators and tests.

A fixed header is one byte (packet type << 4 | flags) and the remaining length: 1 to 4 bytes of 7 bits each,
least significant first, the top bit saying "another byte follows" (spec 2.2.3). A PUBLISH body is the topic
(2-byte length + UTF-8), the packet id when QoS > 0, then the payload up to the end of the packet (3.3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

MAX_REMAINING_LENGTH = 268_435_455  # 4 bytes of 7 bits
MAX_PACKET_BYTES = 8 * 1024 * 1024  # larger packets from the broker are skipped, not buffered
# the flags every packet a broker may send must carry (PUBLISH's are dup/QoS/retain, checked on their own)
_SERVER_FLAGS = {CONNACK: 0, PUBACK: 0, PUBREC: 0, PUBREL: 2, PUBCOMP: 0, SUBACK: 0, UNSUBACK: 0, PINGRESP: 0}

CONNACK_REFUSALS = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}
SUBACK_FAILURE = 0x80

PINGREQ_PACKET = bytes([PINGREQ << 4, 0])
DISCONNECT_PACKET = bytes([DISCONNECT << 4, 0])

Message = tuple[bytes, bytes]  # one PUBLISH: (topic as UTF-8 bytes, payload)


class MalformedPacket(ValueError):
    """The broker sent bytes that are not MQTT 3.1.1; the spec says: close the connection (4.8)."""


# --- encoding ----------------------------------------------------------------------------------------


def encode_remaining_length(n: int) -> bytes:
    if not 0 <= n <= MAX_REMAINING_LENGTH:
        raise ValueError(f"remaining length {n} outside 0..{MAX_REMAINING_LENGTH}")
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    if len(data) > 0xFFFF:
        raise ValueError(f"string of {len(data)} bytes: MQTT strings hold at most 65,535")
    return struct.pack("!H", len(data)) + data


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + encode_remaining_length(len(body)) + body


def encode_connect(
    client_id: str, *, keepalive_s: int, clean_session: bool = True, username: str | None = None,
    password: str | None = None,
) -> bytes:
    if not 0 <= keepalive_s <= 0xFFFF:
        raise ValueError(f"keepalive {keepalive_s} s outside 0..65535")
    flags = (0x02 if clean_session else 0) | (0x80 if username is not None else 0)
    flags |= 0x40 if password is not None and username is not None else 0  # no password without a user (3.1.2.9)
    body = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive_s) + _string(client_id)
    if username is not None:
        body += _string(username)
        if password is not None:
            body += _string(password)
    return _packet(CONNECT << 4, body)


def encode_subscribe(packet_id: int, topics: list[tuple[str, int]]) -> bytes:
    if not topics or not 1 <= packet_id <= 0xFFFF or any(q not in (0, 1, 2) for _, q in topics):
        raise ValueError(f"SUBSCRIBE needs topics, a packet id 1..65535 and QoS 0..2: {packet_id} {topics}")
    body = struct.pack("!H", packet_id) + b"".join(_string(topic) + bytes([qos]) for topic, qos in topics)
    return _packet(SUBSCRIBE << 4 | 0b0010, body)


def encode_puback(packet_id: int) -> bytes:
    return bytes([PUBACK << 4, 2]) + struct.pack("!H", packet_id)


def encode_publish(
    topic: str | bytes, payload: bytes, *, qos: int = 0, packet_id: int = 0, retain: bool = False, dup: bool = False
) -> bytes:
    if qos not in (0, 1, 2) or (qos > 0) != (1 <= packet_id <= 0xFFFF):
        raise ValueError(f"PUBLISH QoS {qos} with packet id {packet_id}: QoS > 0 needs an id 1..65535, QoS 0 none")
    first = PUBLISH << 4 | (0x08 if dup else 0) | qos << 1 | (0x01 if retain else 0)
    body = _string(topic) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return _packet(first, body)


# --- decoding ----------------------------------------------------------------------------------------


@dataclass
class Received:
    """What one `PacketReader.feed` found: PUBLISH messages in arrival order, the ids of the QoS 1 ones
    (to acknowledge), every other packet as (type, body), and the sizes of oversized packets skipped."""

    messages: list[Message] = field(default_factory=list)
    puback_ids: list[int] = field(default_factory=list)
    control: list[tuple[int, bytes]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # sizes in bytes


class PacketReader:
    """Splits the broker's byte stream into packets, however it was cut into recv() chunks: the bytes of
    an unfinished packet wait for the next feed. Packets over `max_packet_bytes` are skipped as they
    stream past (a QoS 1 one still gets its id acknowledged) instead of being buffered.
    Raises MalformedPacket on anything that is not MQTT 3.1.1 from a server."""

    def __init__(self, *, max_packet_bytes: int = MAX_PACKET_BYTES) -> None:
        self.max_packet_bytes = max_packet_bytes
        self._rest = b""
        self._skip = 0  # bytes of an oversized packet still to throw away

    def feed(self, data: bytes) -> Received:
        out = Received()
        if self._skip:
            taken = min(self._skip, len(data))
            self._skip -= taken
            data = data[taken:]
        buf = self._rest + data if self._rest else data
        i, n, limit = 0, len(buf), self.max_packet_bytes
        messages = out.messages
        while n - i >= 2:
            first, length = buf[i], buf[i + 1]
            if length < 0x80:
                start = i + 2
            elif n - i >= 3 and buf[i + 2] < 0x80:  # 2-byte remaining length: packets of 128 B .. 16 KiB
                length, start = (length & 0x7F) | buf[i + 2] << 7, i + 3
            else:
                length, head = _long_length(buf, i)
                if not head:
                    break  # the length itself is not all here yet
                start = i + head
            end = start + length
            if end > n or end - i > limit:
                if end - i <= limit:
                    break  # the rest of the packet is still on its way
                skipped_to = self._start_skip(buf, i, start - i, length, out)
                if skipped_to is None:
                    break
                i = skipped_to
                continue
            if first & 0xF6 == 0x30:  # PUBLISH with QoS 0 (any dup / retain flag): the hot path
                if length < 2:
                    raise MalformedPacket(f"PUBLISH of {length} bytes has no topic length")
                topic_end = start + 2 + (buf[start] << 8 | buf[start + 1])
                if topic_end > end:
                    raise MalformedPacket(f"PUBLISH topic runs past its packet ({length} bytes)")
                messages.append((buf[start + 2 : topic_end], buf[topic_end:end]))
            elif first >> 4 == PUBLISH:
                _publish_qos(first, buf[start:end], messages, out.puback_ids)
            else:
                out.control.append((_control_kind(first), buf[start:end]))
            i = end
        self._rest = buf[i:]
        return out

    def _start_skip(self, buf: bytes, i: int, head: int, length: int, out: Received) -> int | None:
        """An oversized packet at buf[i]: note it, ack it if QoS 1, skip it. None: wait for more bytes."""
        first = buf[i]
        if first >> 4 == PUBLISH and first & 0x06:
            id_end = i + head + 2 + (buf[i + head] << 8 | buf[i + head + 1]) + 2 if len(buf) - i >= head + 2 else None
            if id_end is not None and id_end > i + head + length:
                raise MalformedPacket("QoS 1 PUBLISH topic or packet id runs past its packet")
            if id_end is None or id_end > len(buf):
                return None  # the topic and packet id are not all here yet (at most 64 KiB: we wait for them)
            _publish_qos(first, buf[i + head : id_end], [], out.puback_ids)
        else:
            _control_kind(first)
        out.skipped.append(head + length)
        end = i + head + length
        self._skip = max(end - len(buf), 0)
        return min(end, len(buf))


def _long_length(buf: bytes, i: int) -> tuple[int, int]:
    """Remaining length of 2-4 bytes at buf[i + 1:] -> (length, header size); (0, 0) while incomplete."""
    length, shift = 0, 0
    for k in range(1, 5):
        if i + k >= len(buf):
            return 0, 0
        byte = buf[i + k]
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return length, 1 + k
        shift += 7
    raise MalformedPacket("remaining length longer than 4 bytes")


def _publish_qos(first: int, body: bytes, messages: list[Message], acks: list[int]) -> None:
    """A PUBLISH with QoS 1 (or a bad QoS): the message, and its packet id to acknowledge."""
    qos = first >> 1 & 3
    if qos != 1:
        raise MalformedPacket(f"PUBLISH with QoS {qos}: we subscribe with QoS 0 or 1 only")
    if len(body) < 2:
        raise MalformedPacket("PUBLISH without a topic length")
    topic_end = 2 + (body[0] << 8 | body[1])
    if topic_end + 2 > len(body):
        raise MalformedPacket("QoS 1 PUBLISH topic or packet id runs past its packet")
    packet_id = body[topic_end] << 8 | body[topic_end + 1]
    if packet_id == 0:
        raise MalformedPacket("QoS 1 PUBLISH with packet id 0")
    messages.append((body[2:topic_end], body[topic_end + 2 :]))
    acks.append(packet_id)


def _control_kind(first: int) -> int:
    kind = first >> 4
    if kind == PUBLISH:
        return kind
    if _SERVER_FLAGS.get(kind) != first & 0x0F:
        raise MalformedPacket(f"packet type {kind} with flags {first & 0x0F:#x} is not one a broker sends")
    return kind


def decode_connack(body: bytes) -> tuple[bool, int]:
    """CONNACK body -> (session present, return code); 0 is accepted, see CONNACK_REFUSALS."""
    if len(body) != 2 or body[0] & 0xFE:
        raise MalformedPacket(f"CONNACK body {body.hex()}")
    return bool(body[0] & 1), body[1]


def decode_suback(body: bytes) -> tuple[int, list[int]]:
    """SUBACK body -> (packet id, granted QoS per topic or SUBACK_FAILURE)."""
    if len(body) < 3 or any(code not in (0, 1, 2, SUBACK_FAILURE) for code in body[2:]):
        raise MalformedPacket(f"SUBACK body {body[:40].hex()}")
    return body[0] << 8 | body[1], list(body[2:])
