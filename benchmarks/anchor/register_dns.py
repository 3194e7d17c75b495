#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Register agents' DNs at rtcgate-load's Genesys side on behalf of the anchor (benchmarks/anchor/run.sh).

rtcgate-load starts calling once every agent is registered over WSS and every agent's DN (%04d) is registered at
its Genesys-side registrar: rtcgate registers the DNs itself, Kamailio does not. This sends those REGISTERs, Contact
= Kamailio's SIP/UDP address (where a Genesys would send calls for the DN), every 0.5 s for SECONDS seconds; the
generator's registrar answers 200 to each (the answers are not read).
Usage: register_dns.py GENESYS_IP:PORT AGENTS KAMAILIO_SIP_PORT [SECONDS=5]
"""
import socket
import sys
import time
import uuid


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    agents, kamailio_port = int(sys.argv[2]), int(sys.argv[3])
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    local_port = sock.getsockname()[1]
    cseq = 1
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i in range(1, agents + 1):
            dn = "%04d" % i
            msg = (f"REGISTER sip:{host} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
                   f"Max-Forwards: 70\r\n"
                   f"From: <sip:{dn}@{host}>;tag={uuid.uuid4().hex[:8]}\r\n"
                   f"To: <sip:{dn}@{host}>\r\n"
                   f"Call-ID: anchor-dn-{dn}\r\n"
                   f"CSeq: {cseq} REGISTER\r\n"
                   f"Contact: <sip:{dn}@127.0.0.1:{kamailio_port}>\r\n"
                   f"Expires: 3600\r\nContent-Length: 0\r\n\r\n")
            sock.sendto(msg.encode(), (host, int(port)))
        cseq += 1
        time.sleep(0.5)


if __name__ == "__main__":
    main()
