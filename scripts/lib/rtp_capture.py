#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Kernel-timestamped capture of plain G.711 RTP on loopback (issue 13, scripts/reload_gap_bench.sh): no tcpdump or
# tshark on the build machines, so an AF_PACKET socket on lo with SO_TIMESTAMPNS. The timestamp is taken when the
# kernel queues the packet, so a late reader (this script, or the receiving test process) cannot move it: the gaps
# it shows are the senders' (rtcgate's output toward Genesys; the Genesys stand-in's own 20 ms schedule).
# Usage: rtp_capture.py OUT.tsv SECONDS (SIGTERM ends it early) -> lines "epoch_s<TAB>src_port<TAB>dst_port<TAB>ssrc<TAB>seq"
# Only 172-byte UDP payloads with RTP version 2 and payload type 0 or 8 (one 20 ms G.711 frame) are kept.
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35


def main():
    out, seconds = sys.argv[1], float(sys.argv[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind(("lo", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(0.5)
    # SO_TIMESTAMPNS is CLOCK_REALTIME; written as is, the bench compares it with the daemon's log times.
    end = time.monotonic() + seconds
    rows = []
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))  # the bench ends the capture early, by PID
    while time.monotonic() < end and not stop:
        try:
            data, anc, _flags, addr = s.recvmsg(2048, socket.CMSG_SPACE(16))
        except (socket.timeout, InterruptedError):
            continue
        if addr[2] == PACKET_OUTGOING:  # lo shows each packet twice: once leaving, once arriving
            continue
        # Ethernet header (14) on lo, then IPv4.
        if len(data) < 14 + 20 + 8 + 12 or data[12:14] != b"\x08\x00":
            continue
        ip = data[14:]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        rtp = udp[8:]
        if ulen - 8 != 172 or (rtp[0] >> 6) != 2 or (rtp[1] & 0x7F) not in (0, 8):
            continue
        ts = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", payload[:16])
                ts = sec + nsec / 1e9
        if ts is None:
            continue
        seq, = struct.unpack("!H", rtp[2:4])
        ssrc, = struct.unpack("!I", rtp[8:12])
        rows.append(f"{ts:.6f}\t{sport}\t{dport}\t{ssrc:08x}\t{seq}\n")
    with open(out, "w") as f:
        f.writelines(rows)


if __name__ == "__main__":
    main()
