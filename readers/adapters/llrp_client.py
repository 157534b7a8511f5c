"""A sllurp reader client that decodes tag reports with our fast decoder (llrp_report) and every other
message with sllurp's own; falls back to sllurp for any report the fast decoder does not read."""

from __future__ import annotations

import logging
from typing import Any

from sllurp.llrp import LLRPMessage, LLRPReaderClient
from sllurp.llrp_decoder import msg_header_decode
from sllurp.llrp_errors import LLRPError, ReaderConfigurationError

from readers.adapters.llrp_report import MESSAGE_HEADER, REPORT_TYPE, ReportFormatError, decode_ro_access_report

logger = logging.getLogger(__name__)

FALLBACK_LOG_EVERY = 1000  # a reader sending what llrp_report does not read would do so in every report


class ReportClient(LLRPReaderClient):  # type: ignore[misc]  # sllurp is untyped
    """sllurp's LLRPReaderClient, with RO_ACCESS_REPORTs decoded by llrp_report instead of sllurp's generic decoder.

    The seam: sllurp's receive thread hands every recv() to raw_data_received, which frames the stream into
    messages, builds an LLRPMessage from each (that is where sllurp decodes) and dispatches it to the message
    callbacks and the LLRPClient state machine. This override frames and dispatches the same way; a report is
    built from llrp_report's dicts, every other message (and a report llrp_report does not read: counted in
    `fallbacks`) by sllurp. A message neither can decode is logged, counted in `undecodable` and skipped:
    the stream goes on (sllurp dropped the rest of the recv() on LLRPError and ended its thread on others).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = bytearray()  # bytes of a message not yet complete
        self.fallbacks = 0
        self.undecodable = 0

    def raw_data_received(self, data: bytes) -> None:
        buffer = self.received
        buffer += data
        start = 0
        try:
            while len(buffer) - start >= MESSAGE_HEADER.size:
                length = MESSAGE_HEADER.unpack_from(buffer, start)[1]
                if length < MESSAGE_HEADER.size:  # out of step with the stream: nothing after this can be trusted
                    logger.error("LLRP %s: message length %d; dropping %d bytes", self._host, length,
                                 len(buffer) - start)
                    self.undecodable += 1
                    start = len(buffer)
                elif len(buffer) - start >= length:
                    start += length
                    self.dispatch(bytes(buffer[start - length:start]))
                else:
                    break
        finally:
            del buffer[:start]

    def dispatch(self, frame: bytes) -> None:
        """One whole message: decode it, then run sllurp's message callbacks and state machine, as sllurp does."""
        message = self.decode(frame)
        if message is None:
            return
        try:
            self._on_llrp_message_received(message)
            self.llrp.handleMessage(message)
        except ReaderConfigurationError:
            raise  # sllurp's receive loop disconnects on it
        except LLRPError:
            logger.exception("LLRP %s: handling %s failed; going on", self._host, message.getName())

    def decode(self, frame: bytes) -> LLRPMessage | None:
        msg_type, _vendor, _subtype, version, _header_size, _length, msg_id = msg_header_decode(frame)
        if msg_type == REPORT_TYPE:
            try:
                tags = decode_ro_access_report(frame)
            except ReportFormatError as exc:
                self.fallbacks += 1
                log = logger.warning if self.fallbacks % FALLBACK_LOG_EVERY == 1 else logger.debug
                log("LLRP %s: report decoded by sllurp (%s; %d so far)", self._host, exc, self.fallbacks)
            else:
                message = LLRPMessage(msgbytes=frame, msgdict={
                    "RO_ACCESS_REPORT": {"TagReportData": tags, "Ver": version, "Type": msg_type, "ID": msg_id}})
                message.msgname = "RO_ACCESS_REPORT"  # what sllurp's deserialize() sets; msgdict skips it
                return message
        try:
            return LLRPMessage(msgbytes=frame)
        except Exception:  # sllurp's decoder raises LLRPError, struct.error, KeyError...: this message only
            self.undecodable += 1
            logger.exception("LLRP %s: cannot decode a message of type %d; skipped", self._host, msg_type)
            return None
