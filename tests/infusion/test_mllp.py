"""MLLP: the frame decoder (pure), the server over real sockets, and the ADT feed end to end."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import hl7  # type: ignore[import-untyped]
import hl7.mllp  # type: ignore[import-untyped]
import pytest
from django.core.management import call_command

from floorplans.models import Floor
from infusion.adt import ack_code_of, build_ack, message_header
from infusion.mllp import (
    Frame,
    MllpClient,
    MllpDecoder,
    MllpLimits,
    MllpServer,
    MllpServerThread,
    OversizedFrame,
    adt_handler,
    frame,
    mllp_send,
)
from infusion.models import AdtMessage, Patient

HL7 = Path(__file__).parents[1] / "fixtures" / "hl7"


def message(name: str) -> str:
    return (HL7 / name).read_text(encoding="utf-8").replace("\n", "\r")


def numbered(number: int) -> str:
    return message("a08_update.hl7").replace("ADT0011", f"MSG{number:04d}")


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------- decoder

@pytest.mark.parametrize(
    ("chunks", "frames", "garbage"),
    [
        ([b"\x0bMSH|1\x1c\r"], [b"MSH|1"], 0),
        ([b"\x0bMSH|1\x1c\r\x0bMSH|2\x1c\r"], [b"MSH|1", b"MSH|2"], 0),  # two frames in one read
        ([b"\x0bMS", b"H|1\x1c", b"\r"], [b"MSH|1"], 0),  # <FS><CR> split across reads
        ([bytes([byte]) for byte in b"\x0bMSH|1\x1c\r"], [b"MSH|1"], 0),  # one byte at a time
        ([b"noise\x0bMSH|1\x1c\r", b"\r\n", b"junk\x0bMSH|2\x1c\r"], [b"MSH|1", b"MSH|2"], 9),  # CRLF is not garbage
        ([b"\x0bMSH|cut short", b"\x0bMSH|2\x1c\r"], [b"MSH|2"], 0),  # a new start block abandons the frame
        ([b"MSH|1\x1c\r"], [], 6),  # no start block: not a frame
        ([b"\x0bMSH|1\x1cX\x1c\r"], [b"MSH|1\x1cX"], 0),  # a lone <FS> does not end a frame
    ],
)
def test_it_cuts_frames_out_of_a_byte_stream(chunks: list[bytes], frames: list[bytes], garbage: int) -> None:
    decoder = MllpDecoder()
    got = [item for chunk in chunks for item in decoder.feed(chunk)]
    assert got == [Frame(payload) for payload in frames]
    assert decoder.garbage_bytes == garbage and not decoder.in_frame


def test_it_counts_a_frame_abandoned_for_a_new_one() -> None:
    decoder = MllpDecoder()
    decoder.feed(b"\x0bMSH|cut short")
    assert decoder.in_frame and decoder.pending_bytes == 13
    decoder.feed(b"\x0bMSH|2\x1c\r")
    assert decoder.abandoned_frames == 1


def test_it_drops_an_oversized_frame_but_keeps_its_head_to_answer_it() -> None:
    decoder = MllpDecoder(max_frame_bytes=100)
    head = b"MSH|^~\\&|A|B|C|D|20240501||ADT^A01|BIG1|P|2.5\r"
    items = decoder.feed(b"\x0b" + head)
    for _ in range(50):
        items += decoder.feed(b"Z" * 1000)
    items += decoder.feed(b"\x1c")
    items += decoder.feed(b"\r\x0bMSH|next\x1c\r")
    assert len(items) == 2 and isinstance(items[0], OversizedFrame)
    assert items[0].size == len(head) + 50_000 and items[0].head.startswith(head)
    assert items[1] == Frame(b"MSH|next")
    assert len(decoder._buffer) == 0  # nothing of the big frame is kept


# ---------------------------------------------------------------------------------------------- server

class Recorder:
    """A stand-in for the ADT feed: remembers what it got, answers AA (or fails on request)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, raw: str, peer: str) -> str:
        if "FAIL" in raw:
            raise RuntimeError("the handler broke")
        with self._lock:
            self.received.append((raw, peer))
        return build_ack(raw, "AA")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def start_server(recorder: Recorder) -> Iterator[Callable[..., tuple[MllpServer, int]]]:
    threads: list[MllpServerThread] = []

    def start(**limits: float) -> tuple[MllpServer, int]:
        server = MllpServer(recorder, port=0, limits=MllpLimits(**limits))  # type: ignore[arg-type]
        thread = MllpServerThread(server)
        threads.append(thread)
        return server, thread.start()

    yield start
    for thread in threads:
        thread.stop()


def read_acks(sock: socket.socket, count: int) -> list[str]:
    decoder, acks = MllpDecoder(), list[str]()
    while len(acks) < count:
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        acks += [item.payload.decode() for item in decoder.feed(data) if isinstance(item, Frame)]
    return acks


def test_it_acknowledges_each_message_with_what_the_handler_says(start_server: Callable[..., tuple[MllpServer, int]],
                                                                 recorder: Recorder) -> None:
    server, port = start_server()
    ack = mllp_send("127.0.0.1", port, message("a01_admit.hl7"))
    assert ack_code_of(ack) == "AA" and message_header(ack).event == "A01" and "|ADT0001|" in ack
    assert recorder.received[0][0] == message("a01_admit.hl7")  # exactly what was sent
    assert recorder.received[0][1].startswith("127.0.0.1:")
    assert server.stats.acks["AA"] == 1


def test_it_serves_several_connections_at_once(start_server: Callable[..., tuple[MllpServer, int]],
                                               recorder: Recorder) -> None:
    _, port = start_server(workers=4)
    acks: dict[int, str] = {}

    def sender(first: int) -> None:
        with MllpClient("127.0.0.1", port) as client:
            for number in range(first, first + 3):
                acks[number] = client.send(numbered(number))

    threads = [threading.Thread(target=sender, args=(first,)) for first in range(0, 15, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(acks) == list(range(15))
    assert all(f"|MSG{number:04d}|" in ack and ack_code_of(ack) == "AA" for number, ack in acks.items())
    assert len({peer for _, peer in recorder.received}) == 5


def test_it_skips_garbage_between_frames(start_server: Callable[..., tuple[MllpServer, int]],
                                         recorder: Recorder) -> None:
    server, port = start_server()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"hello\r\n" + frame(numbered(1).encode()) + b"junk" + frame(numbered(2).encode()))
        acks = read_acks(sock, 2)
    assert ["|MSG0001|" in acks[0], "|MSG0002|" in acks[1]] == [True, True]
    wait_until(lambda: server.stats.garbage_bytes == 9)


def test_it_survives_a_peer_that_disconnects_mid_frame(start_server: Callable[..., tuple[MllpServer, int]],
                                                       recorder: Recorder) -> None:
    server, port = start_server()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"\x0b" + numbered(1).encode()[:40])
    wait_until(lambda: server.stats.abandoned_frames == 1 and server.stats.connections_open == 0)
    assert ack_code_of(mllp_send("127.0.0.1", port, numbered(2))) == "AA"
    assert [raw.split("|")[9] for raw, _ in recorder.received] == ["MSG0002"]


def test_it_drops_a_peer_that_stalls_mid_frame(start_server: Callable[..., tuple[MllpServer, int]]) -> None:
    server, port = start_server(frame_timeout_s=0.3)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"\x0b" + numbered(1).encode()[:40])
        assert sock.recv(100) == b""  # the server hangs up on us
    assert server.stats.abandoned_frames == 1 and server.stats.messages == 0


def test_it_refuses_a_too_large_message_with_ar_and_carries_on(start_server: Callable[..., tuple[MllpServer, int]],
                                                               recorder: Recorder) -> None:
    server, port = start_server(max_frame_bytes=2000)
    big = numbered(1) + "NTE|1||" + "x" * 5000 + "\r"
    with MllpClient("127.0.0.1", port) as client:
        refused = client.send(big)
        accepted = client.send(numbered(2))
    assert ack_code_of(refused) == "AR" and "|MSG0001|message too large" in refused
    assert ack_code_of(accepted) == "AA"
    assert len(recorder.received) == 1 and server.stats.oversized == 1


def test_it_nacks_when_the_handler_fails_and_keeps_the_connection(
    start_server: Callable[..., tuple[MllpServer, int]],
) -> None:
    _, port = start_server()
    with MllpClient("127.0.0.1", port) as client:
        failed = client.send(numbered(1).replace("O'Brien-Kelly", "FAIL"))
        fine = client.send(numbered(2))
    assert ack_code_of(failed) == "AE" and "internal error" in failed
    assert ack_code_of(fine) == "AA"


def test_it_refuses_connections_beyond_the_limit(start_server: Callable[..., tuple[MllpServer, int]]) -> None:
    server, port = start_server(max_connections=1)
    with MllpClient("127.0.0.1", port) as first:
        assert ack_code_of(first.send(numbered(1))) == "AA"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as second:
            assert second.recv(100) == b""
        assert server.stats.connections_refused == 1
    assert ack_code_of(mllp_send("127.0.0.1", port, numbered(2))) == "AA"  # a place is free again


def test_it_reads_and_answers_in_the_declared_character_set(start_server: Callable[..., tuple[MllpServer, int]],
                                                            recorder: Recorder) -> None:
    _, port = start_server()
    raw = message("a01_admit_unicode.hl7").replace("UNICODE UTF-8", "8859/1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame(raw.encode("latin-1")))
        ack = read_acks(sock, 1)[0]
    assert "Núñez-Åberg^Zoë" in recorder.received[0][0]
    assert ack.endswith("|8859/1\rMSA|AA|ADT0002|\r")


def test_it_talks_to_python_hl7s_own_mllp_client(start_server: Callable[..., tuple[MllpServer, int]]) -> None:
    _, port = start_server()

    async def exchange() -> object:
        reader, writer = await hl7.mllp.open_hl7_connection("127.0.0.1", port)
        writer.writemessage(hl7.parse(message("a01_admit.hl7")))
        await writer.drain()
        ack = await asyncio.wait_for(reader.readmessage(), 10)
        writer.close()
        await writer.wait_closed()
        return ack

    ack = asyncio.run(exchange())
    assert str(ack.segment("MSA")(1)) == "AA" and str(ack.segment("MSA")(2)) == "ADT0001"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- the ADT feed

@pytest.mark.django_db(transaction=True)
def test_it_applies_adt_messages_sent_over_a_real_mllp_socket(floor: Floor) -> None:
    with MllpServerThread(MllpServer(adt_handler, port=0)) as port, MllpClient("127.0.0.1", port) as client:
        acks = [client.send(message(name)) for name in ("a01_admit.hl7", "a02_transfer.hl7", "bad_no_msh.hl7")]
        unicode_ack = mllp_send("127.0.0.1", port, message("a01_admit_unicode.hl7"))
    assert [ack_code_of(ack) for ack in acks] == ["AA", "AA", "AR"]
    assert ack_code_of(unicode_ack) == "AA"
    mary = Patient.objects.select_related("bed").get(mrn="100001")
    assert mary.bed is not None and mary.bed.code == "3N-102-B"
    assert Patient.objects.get(mrn="100002").family_name == "Núñez-Åberg"
    logged = list(AdtMessage.objects.order_by("received_at").values_list("control_id", "outcome", "sender"))
    assert [(control_id, outcome) for control_id, outcome, _ in logged] == [
        ("ADT0001", "applied"), ("ADT0010", "applied"), ("", "rejected"), ("ADT0002", "applied")]
    assert all(sender.startswith("127.0.0.1:") for _, _, sender in logged)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_feed_as_a_command_until_sigterm(floor: Floor) -> None:
    port, result = free_port(), {}

    def send_then_stop() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                result["ack"] = mllp_send("127.0.0.1", port, message("a01_admit.hl7"))
                break
            except ConnectionRefusedError:  # not listening yet
                time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Thread(target=send_then_stop)
    sender.start()
    out = StringIO()
    call_command("run_adt", port=port, run_for=30.0, status_every=0.2, stdout=out)
    sender.join(timeout=10)
    assert ack_code_of(result["ack"]) == "AA"
    assert f"MLLP on 127.0.0.1:{port}" in out.getvalue() and "adt: 1 messages (acks: AA 1)" in out.getvalue()
    assert out.getvalue().rstrip().endswith("run_adt stopped")
    assert Patient.objects.filter(mrn="100001", bed__code="3N-101-A").exists()
