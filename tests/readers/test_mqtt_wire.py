"""MQTT 3.1.1 packets: encodings pinned byte for byte (spec tables and examples), the reader that splits a broker's
byte stream however recv() cut it, and fuzzing: no input makes it fail other than with MalformedPacket."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.adapters.mqtt_wire import (
    CONNACK,
    DISCONNECT_PACKET,
    PINGREQ_PACKET,
    PINGRESP,
    SUBACK,
    MalformedPacket,
    PacketReader,
    Received,
    decode_connack,
    decode_suback,
    encode_connect,
    encode_puback,
    encode_publish,
    encode_remaining_length,
    encode_subscribe,
)

FUZZ = settings(derandomize=True, max_examples=300, deadline=None, database=None)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# --- encoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "encoded"), [  # spec table 2.4: the edges of 1..4 length bytes
    (0, "00"), (127, "7f"), (128, "80 01"), (16_383, "ff 7f"), (16_384, "80 80 01"), (2_097_151, "ff ff 7f"),
    (2_097_152, "80 80 80 01"), (268_435_455, "ff ff ff 7f"),
])
def test_it_encodes_remaining_lengths_as_the_spec_table_does(n: int, encoded: str) -> None:
    assert encode_remaining_length(n) == h(encoded)


@pytest.mark.parametrize("n", [-1, 268_435_456])
def test_it_refuses_remaining_lengths_mqtt_cannot_carry(n: int) -> None:
    with pytest.raises(ValueError, match="remaining length"):
        encode_remaining_length(n)


@pytest.mark.parametrize(("packet", "expected"), [
    (encode_connect("c", keepalive_s=30), "10 0d 0004 4d515454 04 02 001e 0001 63"),
    (encode_connect("c", keepalive_s=30, username="u", password="p"),
     "10 13 0004 4d515454 04 c2 001e 0001 63 0001 75 0001 70"),
    (encode_connect("c", keepalive_s=0, username="u"), "10 10 0004 4d515454 04 82 0000 0001 63 0001 75"),
    (encode_connect("c", keepalive_s=30, password="p"), "10 0d 0004 4d515454 04 02 001e 0001 63"),  # no user: no pw
    (encode_connect("c", keepalive_s=30, clean_session=False), "10 0d 0004 4d515454 04 00 001e 0001 63"),
    (encode_subscribe(1, [("a/#", 1)]), "82 08 0001 0003 612f23 01"),
    (encode_subscribe(0x1234, [("a", 0), ("b", 2)]), "82 0a 1234 0001 61 00 0001 62 02"),
    (encode_puback(10), "40 02 000a"),
    (PINGREQ_PACKET, "c0 00"),
    (DISCONNECT_PACKET, "e0 00"),
    (encode_publish("a/b", b"hi"), "30 07 0003 612f62 6869"),
    (encode_publish(b"a/b", b""), "30 05 0003 612f62"),
    (encode_publish("a/b", b"hi", qos=1, packet_id=10), "32 09 0003 612f62 000a 6869"),
    (encode_publish("a/b", b"hi", retain=True), "31 07 0003 612f62 6869"),
    (encode_publish("a/b", b"hi", qos=1, packet_id=1, dup=True), "3a 09 0003 612f62 0001 6869"),
    (encode_publish("é", b""), "30 04 0002 c3a9"),  # topics are UTF-8
])
def test_it_encodes_packets_byte_for_byte(packet: bytes, expected: str) -> None:
    assert packet == h(expected)


@pytest.mark.parametrize("make", [
    lambda: encode_publish("a", b"", qos=1),  # QoS 1 needs a packet id
    lambda: encode_publish("a", b"", packet_id=5),  # QoS 0 has none
    lambda: encode_publish("a", b"", qos=3, packet_id=5),
    lambda: encode_publish("a" * 65_536, b""),  # a topic longer than a 2-byte length
    lambda: encode_subscribe(0, [("a", 0)]),
    lambda: encode_subscribe(1, []),
    lambda: encode_subscribe(1, [("a", 3)]),
    lambda: encode_connect("c", keepalive_s=70_000),
])
def test_it_refuses_to_encode_invalid_packets(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


# --- decoding -------------------------------------------------------------------------------------

CONNACK_OK = h("20 02 00 00")
SUBACK_OK = h("90 03 0001 00")
PINGRESP_PACKET = h("d0 00")


def _received(data: bytes, **kwargs: int) -> Received:
    return PacketReader(**kwargs).feed(data)


@pytest.mark.parametrize(("stream", "messages", "acks", "control"), [
    (encode_publish("a/b", b"hi"), [(b"a/b", b"hi")], [], []),
    (encode_publish("a/b", b""), [(b"a/b", b"")], [], []),
    (encode_publish("a/b", b"hi", retain=True), [(b"a/b", b"hi")], [], []),
    (encode_publish("a/b", b"hi", qos=1, packet_id=10), [(b"a/b", b"hi")], [10], []),
    (encode_publish("a/b", b"hi", qos=1, packet_id=7, dup=True), [(b"a/b", b"hi")], [7], []),
    (CONNACK_OK, [], [], [(CONNACK, b"\x00\x00")]),
    (SUBACK_OK, [], [], [(SUBACK, h("0001 00"))]),
    (PINGRESP_PACKET, [], [], [(PINGRESP, b"")]),
    (h("b0 02 0001"), [], [], [(11, h("0001"))]),  # UNSUBACK
    (CONNACK_OK + encode_publish("t", b"1") + PINGRESP_PACKET + encode_publish("u", b"2", qos=1, packet_id=2),
     [(b"t", b"1"), (b"u", b"2")], [2], [(CONNACK, b"\x00\x00"), (PINGRESP, b"")]),
    (encode_publish("t", b"x" * 200), [(b"t", b"x" * 200)], [], []),  # 2-byte remaining length
    (encode_publish("t", b"x" * 20_000), [(b"t", b"x" * 20_000)], [], []),  # 3 bytes
    (encode_publish("t", b"x" * 2_100_000), [(b"t", b"x" * 2_100_000)], [], []),  # 4 bytes
], ids=["qos0", "empty_payload", "retained", "qos1", "qos1_dup", "connack", "suback", "pingresp", "unsuback",
        "mixed_stream", "len2", "len3", "len4"])
def test_it_splits_what_a_broker_sends(
    stream: bytes, messages: list[tuple[bytes, bytes]], acks: list[int], control: list[tuple[int, bytes]]
) -> None:
    got = _received(stream)
    assert (got.messages, got.puback_ids, got.control, got.skipped) == (messages, acks, control, [])


@pytest.mark.parametrize("stream", [
    "30 ff ff ff ff 7f",  # a fifth remaining-length byte
    "36 07 0003 612f62 6869",  # QoS 3
    "34 09 0003 612f62 000a 6869",  # QoS 2: never asked for
    "30 03 0005 61",  # the topic runs past the packet
    "30 00",  # no room for a topic length
    "30 01 00",
    "32 07 0003 612f62 0000",  # QoS 1 with packet id 0
    "32 05 0003 612f62",  # QoS 1 without a packet id
    "00 00",  # reserved type 0
    "f0 00",  # reserved type 15
    "10 00",  # CONNECT, SUBSCRIBE, PINGREQ, DISCONNECT: only clients send these
    "82 00",
    "c0 00",
    "e0 00",
    "21 02 00 00",  # CONNACK with flags
    "60 02 0001",  # PUBREL without its 0b0010 flags
], ids=lambda s: s)
def test_it_refuses_what_is_not_mqtt_from_a_broker(stream: str) -> None:
    with pytest.raises(MalformedPacket):
        _received(h(stream))


def test_it_decodes_connack_and_suback_bodies() -> None:
    assert decode_connack(h("00 00")) == (False, 0)
    assert decode_connack(h("01 05")) == (True, 5)
    assert decode_suback(h("0001 00 01 80")) == (1, [0, 1, 0x80])
    for bad_connack in ("00", "02 00", "00 00 00"):
        with pytest.raises(MalformedPacket):
            decode_connack(h(bad_connack))
    for bad_suback in ("0001", "0001 03"):
        with pytest.raises(MalformedPacket):
            decode_suback(h(bad_suback))


STREAM = b"".join([
    CONNACK_OK, SUBACK_OK, encode_publish("espresense/devices/ac233f000001/kitchen", b'{"rssi":-61.5}'),
    encode_publish("t", b"x" * 300, qos=1, packet_id=300), PINGRESP_PACKET, encode_publish("e", b""),
    encode_publish("q", b"y" * 130, qos=1, packet_id=65_535, retain=True),
])


def _feed_in_pieces(stream: bytes, cuts: list[int], **kwargs: int) -> Received:
    reader, total = PacketReader(**kwargs), Received()
    edges = [0, *sorted(set(cuts)), len(stream)]
    for start, end in itertools.pairwise(edges):
        got = reader.feed(stream[start:end])
        total.messages += got.messages
        total.puback_ids += got.puback_ids
        total.control += got.control
        total.skipped += got.skipped
    return total


def test_it_reads_the_same_packets_wherever_recv_cut_the_stream() -> None:
    whole = _received(STREAM)
    assert len(whole.messages) == 4 and whole.puback_ids == [300, 65_535] and len(whole.control) == 3
    for cut in range(1, len(STREAM)):
        assert _feed_in_pieces(STREAM, [cut]) == whole, cut
    assert _feed_in_pieces(STREAM, list(range(1, len(STREAM)))) == whole  # one byte per recv()


def test_it_skips_packets_over_the_limit_and_still_acknowledges_them() -> None:
    big0, big1 = encode_publish("big", b"z" * 500), encode_publish("big", b"z" * 500, qos=1, packet_id=9)
    stream = encode_publish("a", b"1") + big0 + encode_publish("b", b"2") + big1 + encode_publish("c", b"3")
    expected = Received([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")], [9], [], [len(big0), len(big1)])
    assert _received(stream, max_packet_bytes=100) == expected
    for step in (1, 7, 64, 99):  # the skipped bytes span several recv() chunks
        assert _feed_in_pieces(stream, list(range(step, len(stream), step)), max_packet_bytes=100) == expected


def test_it_refuses_an_oversized_qos1_publish_whose_topic_runs_past_it() -> None:
    with pytest.raises(MalformedPacket):
        _received(h("32 7f 00ff") + b"t" * 125, max_packet_bytes=10)


# --- fuzzing --------------------------------------------------------------------------------------

publishes = st.lists(st.tuples(
    st.text(min_size=1, max_size=30), st.binary(max_size=300), st.sampled_from([0, 1]), st.integers(1, 65_535),
    st.booleans(),
), max_size=12)


@FUZZ
@given(publishes, st.lists(st.integers(0, 5_000), max_size=10), st.integers(2, 400))
def test_it_reads_back_any_publishes_cut_anywhere(
    items: list[tuple[str, bytes, int, int, bool]], cuts: list[int], limit: int
) -> None:
    packets = [encode_publish(t, p, qos=q, packet_id=i if q else 0, retain=r) for t, p, q, i, r in items]
    stream = b"".join(packets)
    got = _feed_in_pieces(stream, [c % (len(stream) + 1) for c in cuts], max_packet_bytes=limit)
    kept = [(t.encode(), p) for (t, p, _q, _i, _r), packet in zip(items, packets, strict=True) if len(packet) <= limit]
    assert got.messages == kept
    assert got.puback_ids == [i for _t, _p, q, i, _r in items if q]  # oversized ones are acknowledged too
    assert got.skipped == [len(packet) for packet in packets if len(packet) > limit]


@FUZZ
@given(st.binary(max_size=600), st.lists(st.integers(0, 600), max_size=6), st.integers(2, 1_000))
def test_it_fails_only_with_malformed_packet_on_any_bytes(data: bytes, cuts: list[int], limit: int) -> None:
    try:
        got = _feed_in_pieces(data, [c % (len(data) + 1) for c in cuts], max_packet_bytes=limit)
    except MalformedPacket:
        return
    assert all(isinstance(topic, bytes) and isinstance(payload, bytes) for topic, payload in got.messages)


@FUZZ
@given(st.data())
def test_it_fails_only_with_malformed_packet_on_damaged_streams(data: st.DataObject) -> None:
    damaged = bytearray(STREAM[: data.draw(st.integers(0, len(STREAM)))])
    for i in data.draw(st.lists(st.integers(0, 10_000), max_size=4)):
        if damaged:
            damaged[i % len(damaged)] ^= 1 << (i % 8)
    try:
        _feed_in_pieces(bytes(damaged), data.draw(st.lists(st.integers(0, len(damaged)), max_size=5)))
    except MalformedPacket:
        pass
