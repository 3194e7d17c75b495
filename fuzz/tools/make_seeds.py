#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of fuzz/corpus/<target>/ from the project's own fixtures and standard vectors:
JsSIP/SIP.js message shapes (as tests/signaling sends them), the SDP fixtures of tests/sdp/fixtures, every message
the SIPp scenarios of tests/sip/scenarios send (fields filled in), RFC 5769 STUN vectors (MESSAGE-INTEGRITY and
FINGERPRINT recomputed here and checked against the RFC's bytes), real Opus frames (libopus through ctypes) and
config/*.yaml. Deterministic; run from anywhere:  fuzz/tools/make_seeds.py  (then commit what changed)."""
import base64, binascii, ctypes, ctypes.util, hashlib, hmac, math, pathlib, re, struct, zlib

root = pathlib.Path(__file__).resolve().parents[2]
corpus = root / "fuzz" / "corpus"
SEP = b"\n%%frame%%\n"


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def sip(head, body=""):
    head = crlf(head.strip("\n") + "\n")
    body = crlf(body) if body else ""
    return (head + f"Content-Length: {len(body.encode())}\r\n\r\n" + body).encode()


# ---------------------------------------------------------------- browser side (JsSIP / SIP.js over WSS)
chrome = (root / "tests/sdp/fixtures/chrome_offer.sdp").read_text()
firefox = (root / "tests/sdp/fixtures/firefox_offer.sdp").read_text()
firefox_hold = (root / "tests/sdp/fixtures/firefox_hold_reoffer.sdp").read_text()

VIA = "Via: SIP/2.0/WSS q8x2v7.invalid;branch=z9hG4bK{b};rport"
CONTACT = 'Contact: <sip:ab12cd34@q8x2v7.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:0f2c1d7e-0000-4000-8000-000000000001>"'


def jssip_register(cseq, extra=""):
    return sip(f"""REGISTER sip:rtcgate.invalid SIP/2.0
{VIA.format(b=cseq)}
Max-Forwards: 69
To: <sip:1001@rtcgate.invalid>
From: <sip:1001@rtcgate.invalid>;tag=ft1
Call-ID: reg-call-1
CSeq: {cseq} REGISTER
{CONTACT}
Expires: 600
{extra}Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY
Supported: path,gruu,outbound
User-Agent: JsSIP 3.10.1""")


def jssip_request(method, cseq, branch, to_tag=True, extra="", body="", ctype=""):
    tag = ";tag=$TOTAG" if to_tag else ""
    ct = f"Content-Type: {ctype}\n" if ctype else ""
    return sip(f"""{method} sip:5002@rtcgate.invalid SIP/2.0
{VIA.format(b=branch)}
Max-Forwards: 69
To: <sip:5002@rtcgate.invalid>{tag}
From: "Agent 1001" <sip:1001@rtcgate.invalid>;tag=jt7g2kq
Call-ID: 3kf0s1ld2m8q9c7a0b4n
CSeq: {cseq} {method}
Contact: <sip:ab12cd34@q8x2v7.invalid;transport=ws;ob>
{extra}{ct}Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY
Supported: timer,ice,replaces,outbound
User-Agent: JsSIP 3.10.1""", body)


invite_chrome = jssip_request("INVITE", 1, "inv1", False, "Session-Expires: 90\n", chrome, "application/sdp")
put("browser_sip_frames", "jssip_register.sip", jssip_register(1))
put("browser_sip_frames", "jssip_register_unregister.sip", jssip_register(1) + SEP + jssip_register(2).replace(b"Expires: 600", b"Expires: 0"))
put("browser_sip_frames", "jssip_invite_chrome.sip", invite_chrome)
put("browser_sip_frames", "jssip_invite_firefox.sip", jssip_request("INVITE", 1, "inv2", False, "", firefox, "application/sdp"))
put("browser_sip_frames", "jssip_invite_offerless.sip", jssip_request("INVITE", 1, "inv3", False))
put("browser_sip_frames", "jssip_call_dialog.sip", SEP.join([
    invite_chrome,
    jssip_request("ACK", 1, "ack1"),
    jssip_request("INFO", 2, "info1", body="Signal=5\r\nDuration=160\r\n", ctype="application/dtmf-relay"),
    jssip_request("INVITE", 3, "reinv1", body=firefox_hold, ctype="application/sdp"),
    jssip_request("ACK", 3, "ack3"),
    jssip_request("UPDATE", 4, "upd1", body=chrome, ctype="application/sdp"),
    jssip_request("REFER", 5, "ref1", extra="Refer-To: <sip:5003@rtcgate.invalid>\nReferred-By: <sip:1001@rtcgate.invalid>\n"),
    jssip_request("OPTIONS", 6, "opt1"),
    jssip_request("BYE", 7, "bye1"),
]))
put("browser_sip_frames", "jssip_invite_cancel.sip", SEP.join([
    jssip_request("INVITE", 1, "inv9", False, body=chrome, ctype="application/sdp"),
    jssip_request("CANCEL", 1, "inv9", False)]))
put("browser_sip_frames", "sipjs_invite.sip", sip(f"""INVITE sip:5002@rtcgate.invalid SIP/2.0
Via: SIP/2.0/WSS 4m2k9p0q1r3s.invalid;branch=z9hG4bK4391517
To: <sip:5002@rtcgate.invalid>
From: "1001" <sip:1001@rtcgate.invalid>;tag=vo0kp1h2dq
CSeq: 2 INVITE
Call-ID: 8gsd6q3kqg0mtrl2v4n5
Max-Forwards: 70
Contact: <sip:nd8s3k1l@4m2k9p0q1r3s.invalid;transport=ws;ob>
Allow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER
Supported: outbound
User-Agent: SIP.js/0.21.2
Content-Type: application/sdp""", firefox))
put("browser_sip_frames", "sipjs_info_dtmf.sip", SEP.join([
    invite_chrome, jssip_request("ACK", 1, "ack1"),
    jssip_request("INFO", 2, "info2", body="5", ctype="application/dtmf")]))
put("browser_sip_frames", "options_keepalive.sip", sip("""OPTIONS sip:rtcgate.invalid SIP/2.0
Via: SIP/2.0/WSS q8x2v7.invalid;branch=z9hG4bKopt
Max-Forwards: 69
To: <sip:rtcgate.invalid>
From: <sip:1001@rtcgate.invalid>;tag=o1
Call-ID: opt-1
CSeq: 1 OPTIONS"""))
put("browser_sip_frames", "response_200.sip", sip("""SIP/2.0 200 OK
Via: SIP/2.0/WSS rtcgate.invalid;branch=z9hG4bKsrv1
To: <sip:1001@q8x2v7.invalid>;tag=b1
From: <sip:7000@rtcgate.invalid>;tag=g1
Call-ID: out-1
CSeq: 1 INVITE
Contact: <sip:ab12cd34@q8x2v7.invalid;transport=ws>
Content-Type: application/sdp""", chrome))
put("browser_sip_frames", "message_unknown_method.sip", jssip_request("MESSAGE", 1, "msg1", False, body="hello", ctype="text/plain"))

# JsSIP answering rtcgate's INVITE (a call from Genesys): 180, 200 with Chrome's answer, then a BYE of its own.
def jssip_response(status, body="", to_tag=";tag=brw1"):
    ct = "Content-Type: application/sdp\n" if body else ""
    return sip(f"""SIP/2.0 {status}
Via: SIP/2.0/WSS rtcgate.invalid;branch=$BRANCH
To: <sip:1001@rtcgate.invalid>{to_tag}
From: <sip:7000@rtcgate.invalid>;tag=$FROMTAG
Call-ID: $CALLID
CSeq: 1 INVITE
Contact: <sip:ab12cd34@q8x2v7.invalid;transport=ws>
{ct}Supported: timer,ice,replaces,outbound""", body)

put("browser_sip_frames", "jssip_answers_call_from_genesys.sip", SEP.join([
    jssip_response("180 Ringing"), jssip_response("200 OK", chrome),
    sip(f"""BYE sip:rtcgate@rtcgate.invalid;transport=ws SIP/2.0
{VIA.format(b="bye9")}
Max-Forwards: 69
To: <sip:7000@rtcgate.invalid>;tag=$FROMTAG
From: <sip:1001@rtcgate.invalid>;tag=brw1
Call-ID: $CALLID
CSeq: 2 BYE""")]))
put("browser_sip_frames", "jssip_busy_call_from_genesys.sip", SEP.join([
    jssip_response("100 Trying", to_tag=""), jssip_response("486 Busy Here")]))

# ---------------------------------------------------------------- digest Authorization values
put("digest_authorization", "md5_valid.txt", 'Digest algorithm=MD5, username="1001", realm="rtcgate", nonce="$NONCE", uri="sip:5002@rtcgate.invalid", response="$RESPONSE", qop=auth, cnonce="cn0nce", nc=00000001')
put("digest_authorization", "sha256_valid.txt", 'Digest algorithm=SHA-256, username="1001", realm="rtcgate", nonce="$NONCE", uri="sip:5002@rtcgate.invalid", response="$RESPONSE", qop=auth, cnonce="0a4f113b", nc=00000001')
put("digest_authorization", "wrong_uri.txt", 'Digest username="1001", realm="rtcgate", nonce="$NONCE", uri="sip:+88213@rtcgate.invalid", response="$RESPONSE", qop=auth, cnonce="c", nc=00000001')
put("digest_authorization", "nc_zero_no_qop.txt", 'Digest username="1001", realm="rtcgate", nonce="$NONCE", uri="sip:5002@rtcgate.invalid", response="$RESPONSE", nc=00000000')
put("digest_authorization", "two_headers.txt", 'Digest username="1001", realm="rtcgate", nonce="$NONCE", uri="sip:5002@rtcgate.invalid", response="$RESPONSE", qop=auth, cnonce="c", nc=00000001\r\nAuthorization: Digest username="1001", realm="rtcgate", nonce="$NONCE", uri="sip:5002@rtcgate.invalid", response="$RESPONSE", qop=auth, cnonce="c", nc=00000002')
put("digest_authorization", "stale_foreign_nonce.txt", 'Digest username="1001", realm="rtcgate", nonce="1700000000.AAAAAAAAAAA.bm90LWEtbWFj", uri="sip:5002@rtcgate.invalid", response="00000000000000000000000000000000", qop=auth, cnonce="c", nc=00000001, opaque="x"')
token_head = "1001.1800000000"
token_sig = base64.urlsafe_b64encode(hmac.new(b"fuzz-token-secret", b"agent-token:" + token_head.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
put("digest_authorization", "bearer_token.txt", f"Bearer {token_head}.{token_sig}")
put("digest_authorization", "digest_token_username.txt", f'Digest username="{token_head}", realm="rtcgate", nonce="$NONCE", uri="sip:5002@rtcgate.invalid", response="$RESPONSE", qop=auth, cnonce="c", nc=00000001')
put("digest_authorization", "basic_scheme.txt", "Basic MTAwMTpkZW1vLTEwMDE=")

# ---------------------------------------------------------------- SDP
put("sdp_browser", "chrome_offer.sdp", crlf(chrome))
put("sdp_browser", "firefox_offer.sdp", crlf(firefox))
put("sdp_browser", "firefox_hold_reoffer.sdp", crlf(firefox_hold))
put("sdp_browser", "chrome_offer_lf_only.sdp", chrome.replace("\r\n", "\n"))

# ---------------------------------------------------------------- the SIPp scenarios (Genesys side)
fields = {"local_ip": "127.0.0.1", "local_port": "5070", "transport": "UDP", "pid": "4242", "call_number": "1",
          "remote_ip": "127.0.0.1", "remote_port": "5060", "service": "5001", "call_id": "1-4242@127.0.0.1",
          "peer_tag_param": ";tag=gw7k2", "branch": "z9hG4bK-4242-1-2", "next_url": "sip:5001@127.0.0.1:5060",
          "media_port": "6000", "media_ip_type": "4", "media_ip": "127.0.0.1", "local_ip_type": "4",
          "last_Via:": "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKgw1",
          "last_From:": "From: <sip:1001@127.0.0.1>;tag=gw1", "last_To:": "To: <sip:5001@127.0.0.1:5070>",
          "last_Call-ID:": "Call-ID: gw-call-1", "last_CSeq:": "CSeq: 1 INVITE", "last_Record-route:": "",
          "last_Contact:": "Contact: <sip:rtcgate@127.0.0.1:5060>", "routes": "", "field0": "5001"}
genesys_sdps = set()
for xml in sorted((root / "tests/sip/scenarios").glob("*.xml")):
    for i, block in enumerate(re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", xml.read_text(encoding="latin-1"), re.S)):
        fill = lambda l: re.sub(r"\[(last_[A-Za-z-]+:|[a-z_]+[0-9]?)\]", lambda m: fields.get(m.group(1), m.group(0)), l)
        # A field that fills in empty ([last_Record-route:] without one) drops its line, not a blank line.
        lines = [fill(l.strip()) for l in block.strip("\n").split("\n")]
        lines = [f for l, f in zip(block.strip("\n").split("\n"), lines) if f or not l.strip()]
        text = "\n".join(lines).strip("\n")
        head, _, body = text.partition("\n\n")
        body = crlf(body.strip("\n") + "\n") if body.strip() else ""
        head = re.sub(r"Content-Length: *\[len\]", f"Content-Length: {len(body.encode())}", crlf(head + "\n"))
        msg = head + ("\r\n" if "Content-Length" in head else f"Content-Length: {len(body.encode())}\r\n\r\n") + body
        put("upstream_sip", f"{xml.stem}_{i}.sip", msg)
        if body.startswith("v=0"):
            genesys_sdps.add(body)
for i, body in enumerate(sorted(genesys_sdps)):
    put("sdp_genesys", f"sipp_{i}.sdp", body)
put("sdp_genesys", "hold_c0.sdp", crlf("""v=0
o=genesys 1 2 IN IP4 192.0.2.50
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 6000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendonly
"""))
put("sdp_genesys", "pcma_ptime_session_c.sdp", crlf("""v=0
o=GSS 1234 1 IN IP4 192.0.2.50
s=GSS
c=IN IP4 192.0.2.50
b=AS:64
t=0 0
m=audio 6002 RTP/AVP 8 0 18 101
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
m=video 0 RTP/AVP 96
"""))

# ---------------------------------------------------------------- media datagrams (RFC 7983 demux)
def stun_message(msg_type, txid, attrs, key=None, fingerprint=True):
    def attr(t, v):
        return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)
    body = b"".join(attr(t, v) for t, v in attrs)
    if key is not None:
        head = struct.pack("!HHI", msg_type, len(body) + 24, 0x2112A442) + txid
        body += attr(0x0008, hmac.new(key, head + body, hashlib.sha1).digest())
    if fingerprint:
        head = struct.pack("!HHI", msg_type, len(body) + 8, 0x2112A442) + txid
        body += attr(0x8028, struct.pack("!I", zlib.crc32(head + body) ^ 0x5354554E))
    return struct.pack("!HHI", msg_type, len(body), 0x2112A442) + txid + body

txid = bytes.fromhex("b7e7a701bc34d686fa87dfae")
req = stun_message(0x0001, txid, [(0x8022, b"STUN test client"), (0x0024, bytes.fromhex("6e0001ff")),
                                  (0x8029, bytes.fromhex("932ff9b151263b36")), (0x0006, b"evtj:h6vY")],
                   key=b"VOkJxbRl1RmTxUk/WvJxBt")
# RFC 5769 §2.1 pads SOFTWARE/USERNAME with spaces, not NULs; the MI and FINGERPRINT below are the RFC's bytes.
rfc_req = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74"
    "002400046e0001ff80290008932ff9b151263b36000600096576746a3a6836765920202000080014"
    "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf")
assert hmac.new(b"VOkJxbRl1RmTxUk/WvJxBt", struct.pack("!HH", 1, 0x58 - 8) + rfc_req[4:-32], hashlib.sha1).digest() \
    == rfc_req[-28:-8], "RFC 5769 2.1 MESSAGE-INTEGRITY"
assert struct.pack("!I", zlib.crc32(rfc_req[:-8]) ^ 0x5354554E) == rfc_req[-4:], "RFC 5769 2.1 FINGERPRINT"
put("media_packet", "rfc5769_2_1_request.bin", rfc_req)
put("media_packet", "stun_binding_request_ice.bin", req)
xor_port = 32853 ^ 0x2112
xor_ip = bytes(a ^ b for a, b in zip(bytes([192, 0, 2, 1]), bytes.fromhex("2112a442")))
put("media_packet", "rfc5769_2_2_response_ipv4.bin", stun_message(
    0x0101, txid, [(0x8022, b"test vector"), (0x0020, struct.pack("!BBH", 0, 1, xor_port) + xor_ip)],
    key=b"VOkJxbRl1RmTxUk/WvJxBt"))
ip6 = bytes.fromhex("20010db8123456780011223344556677")
xor_ip6 = bytes(a ^ b for a, b in zip(ip6, bytes.fromhex("2112a442") + txid))
put("media_packet", "rfc5769_2_3_response_ipv6.bin", stun_message(
    0x0101, txid, [(0x8022, b"test vector"), (0x0020, struct.pack("!BBH", 0, 2, xor_port) + xor_ip6)],
    key=b"VOkJxbRl1RmTxUk/WvJxBt"))
put("media_packet", "rfc5769_2_4_long_term.bin", stun_message(
    0x0001, bytes.fromhex("78ad3433c6ad72c029da412e"),
    [(0x0006, "マトリックス".encode()), (0x0015, b"f//499k954d6OL34oL9FSTvy64sA"), (0x0014, b"example.org")],
    key=hashlib.md5("マトリックス:example.org:TheMatrIX".encode()).digest(), fingerprint=False))
def rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), ext=None):
    b0 = 0x80 | len(csrcs) | (0x10 if ext else 0)
    out = struct.pack("!BBHII", b0, pt | (0x80 if marker else 0), seq, ts, ssrc) + b"".join(struct.pack("!I", c) for c in csrcs)
    if ext:
        prof, data = ext
        data += b"\0" * (-len(data) % 4)
        out += struct.pack("!HH", prof, len(data) // 4) + data
    return out + payload
put("media_packet", "rtp_pcmu.bin", rtp(0, 1, 160, 0x1234, b"\xff" * 160))
put("media_packet", "rtp_opus_chrome_ext.bin", rtp(111, 7, 960, 0x0f6b2a31, b"\x78" + b"\x00" * 40, True,
    ext=(0xBEDE, bytes([0x10, 0x85, 0x22, 0x01, 0x02, 0x03]))))
put("media_packet", "rtp_csrc_padding.bin", rtp(8, 2, 320, 0x1234, b"\xd5" * 16 + b"\0\0\0\x04", csrcs=(1, 2)).replace(b"\x82", b"\xa2", 1))
sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, 0x1234, 0xe4b9f2a1, 0x1a2b3c4d, 160000, 50, 8000)
sdes_item = b"\x01\x10" + b"Yx3vQ8kP2mN7tR4w" + b"\0\0"
sdes = struct.pack("!BBHI", 0x81, 202, (4 + len(sdes_item)) // 4, 0x1234) + sdes_item
rr = struct.pack("!BBHI", 0x81, 201, 7, 0x5678) + struct.pack("!IIIIII", 0x1234, 0x00000010, 1000, 12, 0, 0)
put("media_packet", "rtcp_sr_sdes.bin", sr + sdes)
put("media_packet", "rtcp_rr_bye.bin", rr + struct.pack("!BBHI", 0x81, 203, 1, 0x5678))
put("media_packet", "dtls_client_hello_head.bin", bytes.fromhex("16feff0000000000000000008a010000") + b"\0" * 32)

# ---------------------------------------------------------------- Opus through the bridge (real libopus frames)
opus = ctypes.CDLL(ctypes.util.find_library("opus") or "libopus.so.0")
opus.opus_encoder_create.restype = ctypes.c_void_p
opus.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
err = ctypes.c_int()
enc = ctypes.c_void_p(opus.opus_encoder_create(48000, 2, 2048, ctypes.byref(err)))
opus.opus_encoder_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
assert err.value == 0
opus.opus_encoder_ctl(enc, 4012, 1)   # OPUS_SET_INBAND_FEC
opus.opus_encoder_ctl(enc, 4014, 10)  # OPUS_SET_PACKET_LOSS_PERC
frames = []
for n in range(6):
    pcm = (ctypes.c_int16 * 1920)(*[int(8000 * math.sin(2 * math.pi * 440 * (n * 960 + i // 2) / 48000)) for i in range(1920)])
    buf = (ctypes.c_ubyte * 400)()
    size = opus.opus_encode(enc, pcm, 960, buf, 400)
    assert 0 < size < 256
    frames.append(bytes(buf[:size]))
def record(control, payload):
    return bytes([control, len(payload)]) + payload
put("opus_to_g711", "opus_tone_6_frames.bin", b"".join(record(0, f) for f in frames))
put("opus_to_g711", "opus_gap_fec_dup_reorder.bin", b"".join(record(c, f) for c, f in zip([0, 0x10, 0, 0x08, 0x18, 0], frames)))
event = lambda code, end, dur: struct.pack("!BBH", code, (0x80 if end else 0) | 10, dur)
put("opus_to_g711", "opus_with_dtmf_5.bin", record(0, frames[0]) + record(0x05, event(5, False, 960)) +
    record(0x09, event(5, False, 1920)) + record(0x09, event(5, True, 4800)) + record(0x09, event(5, True, 4800)) + record(0, frames[1]))
put("opus_to_g711", "genesys_pcmu_and_event.bin", record(0x20, b"\xff" * 160) + record(0x21, event(1, False, 160)) +
    record(0x29, event(1, True, 800)) + record(0x20, b"\x7f" * 160))
put("opus_to_g711", "opus_dtx_and_code3.bin", record(0, b"\x08") + record(0, bytes([0x0b, 0x83]) + b"\x00" * 30))

# ---------------------------------------------------------------- DTMF
put("dtmf", "jssip_dtmf_relay.txt", "application/dtmf-relay\nSignal=5\r\nDuration=160\r\n")
put("dtmf", "sipjs_dtmf_relay.txt", "application/dtmf-relay\nSignal= #\r\nDuration= 100\r\n")
put("dtmf", "sipjs_application_dtmf.txt", "application/dtmf\n9")
put("dtmf", "rfc4733_digit_1.bin", struct.pack("!I", 16000) + event(1, False, 160) + struct.pack("!I", 16000) +
    event(1, False, 320) + struct.pack("!I", 16000) + event(1, True, 800) + struct.pack("!I", 16000) + event(1, True, 800))

# ---------------------------------------------------------------- config
for y in sorted((root / "config").glob("*.yaml")):
    put("config_yaml", y.name, y.read_bytes())
