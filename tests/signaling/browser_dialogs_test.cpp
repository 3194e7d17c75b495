// SPDX-License-Identifier: Apache-2.0
// Dialog handling toward the browser without sockets: requests in, responses out, timers on a real loop.
#include "rtcgate/signaling/browser_dialogs.h"

#include <gtest/gtest.h>
#include <sofia-sip/sip.h>

#include <regex>

#include "rtcgate/signaling/sip_message.h"
#include "support/test_support.h"

namespace rtcgate::signaling {
namespace {

struct RecordingTransport : SipTransport {
  std::vector<std::string> sent;
  std::vector<ConnectionId> to;  // the connection of each sent message
  bool send(ConnectionId c, std::string m) override {
    sent.push_back(std::move(m));
    to.push_back(c);
    return true;
  }
  void close(ConnectionId) override {}
};

const std::string kSdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

std::string request(const std::string& method, uint32_t cseq, const std::string& toTag,
                    const std::string& branch, const std::string& body = "", const std::string& extra = "") {
  std::string s = method + " sip:5555@rtcgate.invalid SIP/2.0\r\n"
                  "Via: SIP/2.0/WSS h7.invalid;branch=z9hG4bK" + branch + "\r\n"
                  "Max-Forwards: 69\r\n"
                  "To: <sip:5555@rtcgate.invalid>" + (toTag.empty() ? "" : ";tag=" + toTag) + "\r\n"
                  "From: \"Agent\" <sip:1001@rtcgate.invalid>;tag=brw1\r\n"
                  "Call-ID: call-abc\r\n"
                  "CSeq: " + std::to_string(cseq) + " " + method + "\r\n"
                  "Contact: <sip:x1@h7.invalid;transport=ws;ob>\r\n" + extra;
  if (!body.empty()) s += "Content-Type: application/sdp\r\n";
  s += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return s;
}

std::unique_ptr<SipMessage> parse(const std::string& text) {
  auto r = SipMessage::parse(text);
  EXPECT_EQ(r.status, SipMessage::ParseStatus::Ok) << r.reason << "\n" << text;
  return std::move(r.message);
}

std::string toTagOf(const std::string& response) {
  std::smatch m;
  return std::regex_search(response, m, std::regex("\r\nTo: [^\r]*;tag=([0-9a-z]+)")) ? m[1].str() : "";
}

class DialogsTest : public ::testing::Test {
protected:
  DialogsTest() {
    loop.adoptCurrentThread();
    dialogs.setIncomingHandler([this](std::shared_ptr<BrowserDialog> d) {
      incoming = d;
      DialogEvents ev;
      ev.onAck = [this](const std::string&) { ++acks; };
      ev.onTerminated = [this](const std::string& why) { terminated.push_back(why); };
      ev.onInfo = [this](const std::string& type, const std::string& body) { infos.push_back(type + "|" + body); };
      d->setEvents(ev);
    });
  }
  void in(const std::string& text) { dialogs.onRequest(7, "1001", parse(text)); }
  std::string answered() {
    in(request("INVITE", 1, "", "inv1", kSdp, "Session-Expires: 90\r\nSupported: timer\r\n"));
    EXPECT_TRUE(incoming);
    incoming->respond(200, "OK", kSdp);
    return transport.sent.back();
  }

  EventLoop loop{"control"};
  Metrics metrics;
  RecordingTransport transport;
  BrowserDialogs dialogs{loop, transport, metrics};
  std::shared_ptr<BrowserDialog> incoming;
  int acks = 0;
  std::vector<std::string> terminated;
  std::vector<std::string> infos;
};

TEST_F(DialogsTest, InviteFromBrowserIsAnsweredAndTheTwoHundredRetransmittedUntilAck) {
  in(request("INVITE", 1, "", "inv1", kSdp, "Session-Expires: 90\r\nSupported: timer\r\n"));
  ASSERT_TRUE(incoming);
  EXPECT_EQ(incoming->remoteOffer(), kSdp);
  EXPECT_EQ(incoming->target(), "5555");
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].rfind("SIP/2.0 100 Trying\r\n", 0), 0u);
  incoming->respond(180, "Ringing");
  incoming->respond(200, "OK", kSdp);
  ASSERT_EQ(transport.sent.size(), 3u);
  const std::string ok = transport.sent[2];
  EXPECT_EQ(ok.rfind("SIP/2.0 200 OK\r\n", 0), 0u);
  EXPECT_NE(ok.find("Contact: <sip:rtcgate@rtcgate.invalid;transport=ws>"), std::string::npos);
  EXPECT_NE(ok.find("Session-Expires: 90;refresher=uac\r\n"), std::string::npos) << ok;
  EXPECT_NE(ok.find("Require: timer\r\n"), std::string::npos);
  EXPECT_EQ(ok.find("100rel"), std::string::npos);
  EXPECT_NE(ok.find("\r\n\r\n" + kSdp), std::string::npos);
  std::string tag = toTagOf(ok);
  ASSERT_FALSE(tag.empty());
  EXPECT_EQ(toTagOf(transport.sent[1]), tag);  // 180 and 200 carry the same tag
  // RFC 3261 13.3.1.4: retransmitted at T1, then 2*T1 ... until the ACK.
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return transport.sent.size() >= 5; }, std::chrono::seconds(3)));
  EXPECT_EQ(transport.sent[3], ok);
  in(request("ACK", 1, tag, "ack1"));
  EXPECT_EQ(acks, 1);
  size_t after = transport.sent.size();
  test::pumpUntil(loop, [] { return false; }, std::chrono::milliseconds(2200));
  EXPECT_EQ(transport.sent.size(), after);
  EXPECT_EQ(incoming->state(), BrowserDialog::State::Confirmed);
}

TEST_F(DialogsTest, ByeEndsTheDialogAndLaterRequestsGet481) {
  std::string tag = toTagOf(answered());
  in(request("ACK", 1, tag, "ack1"));
  in(request("BYE", 2, tag, "bye1"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 200 OK", 0), 0u);
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(dialogs.size(), 0u);
  in(request("BYE", 3, tag, "bye2"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 481", 0), 0u);
  size_t n = transport.sent.size();
  in(request("ACK", 3, tag, "ack9"));  // never answered
  EXPECT_EQ(transport.sent.size(), n);
}

TEST_F(DialogsTest, CancelGets200AndTheInvite487) {
  in(request("INVITE", 1, "", "inv1", kSdp));
  incoming->respond(180, "Ringing");
  in(request("CANCEL", 1, "", "inv1"));
  ASSERT_GE(transport.sent.size(), 4u);
  EXPECT_EQ(transport.sent[transport.sent.size() - 2].rfind("SIP/2.0 200 OK", 0), 0u);
  EXPECT_NE(transport.sent[transport.sent.size() - 2].find("CSeq: 1 CANCEL"), std::string::npos);
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 487 Request Terminated", 0), 0u);
  EXPECT_NE(transport.sent.back().find("CSeq: 1 INVITE"), std::string::npos);
  EXPECT_EQ(terminated.size(), 1u);
  in(request("CANCEL", 1, "", "other"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 481", 0), 0u);
}

TEST_F(DialogsTest, UpdateRefreshInfoOptionsAndGlare) {
  std::string tag = toTagOf(answered());
  // Our 2xx is not ACKed yet: a re-INVITE now is glare (RFC 3261 14.2).
  in(request("INVITE", 2, tag, "re1", kSdp));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 491 Request Pending", 0), 0u);
  in(request("ACK", 1, tag, "ack1"));
  in(request("UPDATE", 3, tag, "up1", "", "Session-Expires: 90;refresher=uac\r\n"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 200 OK", 0), 0u);
  EXPECT_NE(transport.sent.back().find("Session-Expires: 90;refresher=uac"), std::string::npos);
  in("INFO sip:5555@rtcgate.invalid SIP/2.0\r\nVia: SIP/2.0/WSS h7.invalid;branch=z9hG4bKi1\r\n"
     "To: <sip:5555@rtcgate.invalid>;tag=" + tag + "\r\nFrom: <sip:1001@rtcgate.invalid>;tag=brw1\r\n"
     "Call-ID: call-abc\r\nCSeq: 4 INFO\r\nContent-Type: application/dtmf-relay\r\n"
     "Content-Length: 24\r\n\r\nSignal=5\r\nDuration=100\r\n");
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 200 OK", 0), 0u);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0], "application/dtmf-relay|Signal=5\r\nDuration=100\r\n");
  in(request("OPTIONS", 5, tag, "o1"));
  EXPECT_NE(transport.sent.back().find("Allow: INVITE"), std::string::npos);
  // A lower CSeq is out of order.
  in(request("OPTIONS", 2, tag, "o2"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 500", 0), 0u);
  // A re-INVITE with an offer and no onReoffer handler is answered with our SDP.
  in(request("INVITE", 6, tag, "re2", kSdp));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 200 OK", 0), 0u);
  EXPECT_NE(transport.sent.back().find("CSeq: 6 INVITE"), std::string::npos);
  // While that 2xx waits for its ACK, an UPDATE with an offer is glare too.
  in(request("UPDATE", 7, tag, "up2", kSdp));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 491", 0), 0u);
}

TEST_F(DialogsTest, NoAckEndsTheCallWithBye) {
  dialogs.setTimers(std::chrono::milliseconds(50), std::chrono::milliseconds(400));  // 64*T1 scaled down
  answered();
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return !terminated.empty(); }, std::chrono::seconds(5)));
  EXPECT_EQ(transport.sent.back().rfind("BYE sip:x1@h7.invalid;transport=ws;ob SIP/2.0", 0), 0u) << transport.sent.back();
}

TEST_F(DialogsTest, InviteToBrowserAcksTheTwoHundredAndHangsUpWithBye) {
  Registration target;
  target.user = "1001";
  target.connection = 7;
  target.contactUri = "sip:k3l2@x7.invalid;transport=ws";
  std::vector<int> statuses;
  DialogEvents ev;
  ev.onResponse = [&](int status, const std::string&, const std::string&) { statuses.push_back(status); };
  ev.onTerminated = [&](const std::string& why) { terminated.push_back(why); };
  auto d = dialogs.invite(target, "5001", kSdp, ev);
  ASSERT_EQ(transport.sent.size(), 1u);
  auto inv = parse(transport.sent[0]);
  ASSERT_TRUE(inv);
  EXPECT_EQ(transport.sent[0].rfind("INVITE sip:k3l2@x7.invalid;transport=ws SIP/2.0\r\n", 0), 0u);
  EXPECT_EQ(inv->body(), kSdp);
  auto respond = [&](int status, const std::string& reason, const std::string& body = "") {
    std::string via = SipMessage::encodeAll(reinterpret_cast<const sip_header_u*>(inv->sip()->sip_via));
    std::string r = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n" + via +
                    "From: <sip:5001@rtcgate.invalid>;tag=" + inv->fromTag() + "\r\n"
                    "To: <sip:1001@rtcgate.invalid>;tag=js1\r\nCall-ID: " + inv->callId() + "\r\n"
                    "CSeq: 1 INVITE\r\nContact: <sip:k3l2@x7.invalid;transport=ws>\r\n" +
                    (body.empty() ? "" : "Content-Type: application/sdp\r\n") +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    dialogs.onResponse(7, *parse(r));
  };
  respond(180, "Ringing");
  respond(200, "OK", kSdp);
  ASSERT_EQ(statuses, (std::vector<int>{180, 200}));
  EXPECT_EQ(transport.sent.back().rfind("ACK sip:k3l2@x7.invalid;transport=ws SIP/2.0", 0), 0u);
  EXPECT_NE(transport.sent.back().find("To: <sip:1001@rtcgate.invalid>;tag=js1"), std::string::npos);
  respond(200, "OK", kSdp);  // a retransmission is ACKed again, not reported again
  EXPECT_EQ(statuses.size(), 2u);
  EXPECT_EQ(transport.sent.back().rfind("ACK ", 0), 0u);
  EXPECT_EQ(d->state(), BrowserDialog::State::Confirmed);
  EXPECT_TRUE(d->sendRequest("INFO", "application/dtmf-relay", "Signal=1\r\nDuration=100\r\n"));
  EXPECT_EQ(transport.sent.back().rfind("INFO ", 0), 0u);
  d->hangup();
  EXPECT_EQ(transport.sent.back().rfind("BYE sip:k3l2@x7.invalid;transport=ws SIP/2.0", 0), 0u);
  EXPECT_NE(transport.sent.back().find("CSeq: 3 BYE"), std::string::npos);
  EXPECT_EQ(terminated.size(), 1u);
  EXPECT_EQ(dialogs.size(), 0u);
}

TEST_F(DialogsTest, InviteToBrowserCancelledBeforeAnswer) {
  Registration target;
  target.user = "1001";
  target.connection = 7;
  target.contactUri = "sip:k3l2@x7.invalid;transport=ws";
  auto d = dialogs.invite(target, "5001", kSdp, {});
  auto inv = parse(transport.sent[0]);
  d->hangup();
  auto cancel = parse(transport.sent.back());
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->method(), "CANCEL");
  EXPECT_EQ(cancel->topViaBranch(), inv->topViaBranch());  // RFC 3261 9.1
  EXPECT_EQ(cancel->cseq(), inv->cseq());
}

// Issue 10: Genesys's auto-answer (Call-Info ...;answer-after=0) reaches the browser on the INVITE, and remote
// control (NOTIFY talk while ringing) can reach it as INFO on the early dialog (JsSIP accepts INFO while ringing).
TEST_F(DialogsTest, InviteToBrowserCarriesCallInfoAndEarlyInfoIsPossible) {
  Registration target;
  target.user = "1001";
  target.connection = 7;
  target.contactUri = "sip:k3l2@x7.invalid;transport=ws";
  auto d = dialogs.invite(target, "5001", kSdp, {},
                          {"Call-Info: <sip:192.0.2.20>;answer-after=0", "X-Bad: a\r\nInjected: yes"},
                          "Jane \"Q\" Doe\r\n");
  EXPECT_NE(transport.sent[0].find("\r\nFrom: \"Jane Q Doe\" <sip:5001@rtcgate.invalid>;tag="), std::string::npos)
      << transport.sent[0];
  ASSERT_EQ(transport.sent.size(), 1u);
  auto inv = parse(transport.sent[0]);
  ASSERT_TRUE(inv);
  ASSERT_NE(inv->sip()->sip_call_info, nullptr) << transport.sent[0];
  EXPECT_NE(transport.sent[0].find("\r\nCall-Info: <sip:192.0.2.20>;answer-after=0\r\n"), std::string::npos);
  EXPECT_EQ(transport.sent[0].find("Injected"), std::string::npos);  // a header with a line break is dropped
  // Before any 18x there is no early dialog: no INFO.
  EXPECT_FALSE(d->sendRequest("INFO", "application/x-rtcgate-remote-control", "talk\r\n"));
  std::string via = SipMessage::encodeAll(reinterpret_cast<const sip_header_u*>(inv->sip()->sip_via));
  std::string ringing = "SIP/2.0 180 Ringing\r\n" + via + "From: <sip:5001@rtcgate.invalid>;tag=" + inv->fromTag() +
                        "\r\nTo: <sip:1001@rtcgate.invalid>;tag=js1\r\nCall-ID: " + inv->callId() +
                        "\r\nCSeq: 1 INVITE\r\nContact: <sip:k3l2@x7.invalid;transport=ws>\r\nContent-Length: 0\r\n\r\n";
  dialogs.onResponse(7, *parse(ringing));
  EXPECT_EQ(d->state(), BrowserDialog::State::Early);
  ASSERT_TRUE(d->sendRequest("INFO", "application/x-rtcgate-remote-control", "talk\r\n"));
  auto info = parse(transport.sent.back());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->method(), "INFO");
  EXPECT_EQ(info->body(), "talk\r\n");
  EXPECT_NE(transport.sent.back().find("To: <sip:1001@rtcgate.invalid>;tag=js1"), std::string::npos);
  EXPECT_EQ(transport.sent.back().find("Call-Info"), std::string::npos);  // INVITE only
  EXPECT_FALSE(d->sendRequest("BYE"));  // other requests still wait for the confirmed dialog
}

// Issue 10, transfer asked by the agent (JsSIP session.refer): the REFER reaches the session parsed, one at a time;
// our 202 and NOTIFYs carry the subscription id JsSIP matches them by (its REFER's CSeq).
TEST_F(DialogsTest, ReferIsParsedForTheSessionAndItsNotifiesCarryTheSubscriptionId) {
  std::string tag = toTagOf(answered());
  in(request("ACK", 1, tag, "ack1"));
  std::vector<ReferRequest> refers;
  DialogEvents ev;
  ev.onRefer = [&refers](const ReferRequest& r) { refers.push_back(r); };
  incoming->setEvents(ev);
  const size_t before = transport.sent.size();
  in(request("REFER", 2, tag, "ref1", "",
             "Refer-To: <sip:5001@elsewhere.example?Replaces=other-call%40h7%3Bto-tag%3Dt1%3Bfrom-tag%3Df1>\r\n"
             "Referred-By: <sip:1001@rtcgate.invalid>\r\n"));
  ASSERT_EQ(refers.size(), 1u);
  EXPECT_EQ(transport.sent.size(), before);  // answered by the session, once Genesys has
  EXPECT_EQ(refers[0].id, 2u);
  EXPECT_TRUE(refers[0].sipUri);
  EXPECT_EQ(refers[0].targetUser, "5001");
  EXPECT_TRUE(refers[0].hasReplaces);
  EXPECT_EQ(refers[0].replacesCallId, "other-call@h7");
  EXPECT_EQ(refers[0].replacesToTag, "t1");
  EXPECT_EQ(refers[0].replacesFromTag, "f1");
  // A second REFER while the first is unanswered: 491.
  in(request("REFER", 3, tag, "ref2", "", "Refer-To: <sip:5002@rtcgate.invalid>\r\n"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 491 Request Pending\r\n", 0), 0u) << transport.sent.back();
  EXPECT_EQ(refers.size(), 1u);
  incoming->answerRefer(202, "Accepted");
  const std::string accepted = transport.sent.back();
  EXPECT_EQ(accepted.rfind("SIP/2.0 202 Accepted\r\n", 0), 0u) << accepted;
  EXPECT_NE(accepted.find("CSeq: 2 REFER\r\n"), std::string::npos) << accepted;
  EXPECT_FALSE(incoming->referPending());
  ASSERT_TRUE(incoming->notifyRefer(2, "active;expires=60", "SIP/2.0 100 Trying\r\n"));
  const std::string notify = transport.sent.back();
  EXPECT_EQ(notify.rfind("NOTIFY sip:x1@h7.invalid;transport=ws;ob SIP/2.0\r\n", 0), 0u) << notify;
  EXPECT_NE(notify.find("Event: refer;id=2\r\n"), std::string::npos) << notify;
  EXPECT_NE(notify.find("Subscription-State: active;expires=60\r\n"), std::string::npos) << notify;
  EXPECT_NE(notify.find("Content-Type: message/sipfrag\r\n"), std::string::npos) << notify;
  EXPECT_NE(notify.find("\r\n\r\nSIP/2.0 100 Trying\r\n"), std::string::npos) << notify;
  EXPECT_NE(notify.find(";tag=" + tag + "\r\n"), std::string::npos) << notify;  // our tag in From
  // The next REFER is the session's to judge again.
  in(request("REFER", 4, tag, "ref3", "", "Refer-To: <sip:5002@rtcgate.invalid>\r\n"));
  ASSERT_EQ(refers.size(), 2u);
  EXPECT_FALSE(refers[1].hasReplaces);
  EXPECT_EQ(refers[1].id, 4u);
}

// Only the call's own agent over the dialog's own connection may transfer it; a dialog without a transfer handler
// keeps answering 405, a REFER without Refer-To gets 400.
TEST_F(DialogsTest, ReferFromAnotherConnectionOrAgentGets403) {
  std::string tag = toTagOf(answered());
  in(request("ACK", 1, tag, "ack1"));
  in(request("REFER", 2, tag, "ref0", "", "Refer-To: <sip:5001@rtcgate.invalid>\r\n"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 405 Method Not Allowed\r\n", 0), 0u) << transport.sent.back();
  int refers = 0;
  DialogEvents ev;
  ev.onRefer = [&refers](const ReferRequest&) { ++refers; };
  incoming->setEvents(ev);
  dialogs.onRequest(8, "1001", parse(request("REFER", 3, tag, "ref1", "", "Refer-To: <sip:5001@rtcgate.invalid>\r\n")));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403 Forbidden\r\n", 0), 0u) << transport.sent.back();
  dialogs.onRequest(7, "1002", parse(request("REFER", 4, tag, "ref2", "", "Refer-To: <sip:5001@rtcgate.invalid>\r\n")));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403 Forbidden\r\n", 0), 0u) << transport.sent.back();
  // The refused ones did not advance the dialog's CSeq: the agent's own next request is in order.
  in(request("REFER", 3, tag, "ref3"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 400 ", 0), 0u) << transport.sent.back();
  EXPECT_EQ(refers, 0);
}

// RFC 3515 needs a dialog able to carry the NOTIFYs: a REFER on the early dialog (after our 180) gets 403.
TEST_F(DialogsTest, ReferBeforeTheCallIsEstablishedGets403) {
  in(request("INVITE", 1, "", "inv1", kSdp));
  ASSERT_TRUE(incoming);
  incoming->respond(180, "Ringing");
  const std::string tag = toTagOf(transport.sent.back());
  ASSERT_FALSE(tag.empty());
  int refers = 0;
  DialogEvents ev;
  ev.onRefer = [&refers](const ReferRequest&) { ++refers; };
  incoming->setEvents(ev);
  in(request("REFER", 2, tag, "ref1", "", "Refer-To: <sip:5001@rtcgate.invalid>\r\n"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403 Forbidden\r\n", 0), 0u) << transport.sent.back();
  EXPECT_EQ(refers, 0);
}

// Issue 10: an INVITE without SDP to the browser (third-party call control): the browser offers in its 2xx, the ACK
// waits for our answer and carries it, the 2xx's retransmissions get that same ACK; a 2xx still waiting for its
// ACK is ACKed (without an answer) before the BYE.
TEST_F(DialogsTest, OfferlessInviteToBrowserAnswersTheOfferInTheAck) {
  Registration target;
  target.user = "1001";
  target.connection = 7;
  target.contactUri = "sip:k3l2@x7.invalid;transport=ws";
  for (bool answered : {true, false}) {
    transport.sent.clear();
    std::vector<std::string> offers;
    DialogEvents ev;
    ev.onResponse = [&](int status, const std::string&, const std::string& sdp) {
      if (status == 200) offers.push_back(sdp);
    };
    auto d = dialogs.invite(target, "5001", "", ev);
    ASSERT_EQ(transport.sent.size(), 1u);
    auto inv = parse(transport.sent[0]);
    ASSERT_TRUE(inv);
    EXPECT_TRUE(inv->body().empty());
    EXPECT_EQ(transport.sent[0].find("Content-Type"), std::string::npos);
    std::string via = SipMessage::encodeAll(reinterpret_cast<const sip_header_u*>(inv->sip()->sip_via));
    const std::string ok = "SIP/2.0 200 OK\r\n" + via + "From: <sip:5001@rtcgate.invalid>;tag=" + inv->fromTag() +
                           "\r\nTo: <sip:1001@rtcgate.invalid>;tag=js1\r\nCall-ID: " + inv->callId() +
                           "\r\nCSeq: 1 INVITE\r\nContact: <sip:k3l2@x7.invalid;transport=ws>\r\n"
                           "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(kSdp.size()) +
                           "\r\n\r\n" + kSdp;
    dialogs.onResponse(7, *parse(ok));
    ASSERT_EQ(offers, std::vector<std::string>{kSdp});
    EXPECT_EQ(transport.sent.size(), 1u);  // no ACK before our answer
    dialogs.onResponse(7, *parse(ok));     // a retransmission meanwhile: still nothing
    EXPECT_EQ(transport.sent.size(), 1u);
    EXPECT_EQ(offers.size(), 1u);
    if (answered) {
      d->acknowledge(kSdp);
      ASSERT_EQ(transport.sent.size(), 2u);
      auto ack = parse(transport.sent[1]);
      ASSERT_TRUE(ack);
      EXPECT_EQ(ack->method(), "ACK");
      EXPECT_EQ(ack->cseq(), 1u);
      EXPECT_EQ(ack->body(), kSdp);
      EXPECT_EQ(ack->contentType(), "application/sdp");
      EXPECT_NE(transport.sent[1].find("To: <sip:1001@rtcgate.invalid>;tag=js1"), std::string::npos);
      d->acknowledge(kSdp);  // once only
      EXPECT_EQ(transport.sent.size(), 2u);
      dialogs.onResponse(7, *parse(ok));  // a retransmission after the ACK gets the same ACK
      ASSERT_EQ(transport.sent.size(), 3u);
      EXPECT_EQ(transport.sent[2], transport.sent[1]);
      d->hangup();
      ASSERT_EQ(transport.sent.size(), 4u);
      EXPECT_EQ(transport.sent[3].rfind("BYE ", 0), 0u);
    } else {
      d->hangup();
      ASSERT_EQ(transport.sent.size(), 3u);
      auto ack = parse(transport.sent[1]);
      ASSERT_TRUE(ack);
      EXPECT_EQ(ack->method(), "ACK");
      EXPECT_TRUE(ack->body().empty());
      EXPECT_EQ(transport.sent[2].rfind("BYE ", 0), 0u);
    }
    EXPECT_EQ(dialogs.size(), 0u);
  }
}

Registration binding(const std::string& user, const std::string& contact, ConnectionId connection) {
  Registration r;
  r.user = user;
  r.contactUri = contact;
  r.connection = connection;
  return r;
}

// Issue 10, reconnect grace: the answered call from agent 1001 on connection 7 (JsSIP Contact x1@h7.invalid).
class ReconnectTest : public DialogsTest {
protected:
  ReconnectTest() {
    dialogs.setReconnectGrace(std::chrono::milliseconds(300));
    dialogs.setGraceListener([this](const std::string& agent, bool waiting) {
      keeps.push_back(agent + (waiting ? " waiting" : " done"));
    });
  }
  std::string established() {
    std::string tag = toTagOf(answered());
    in(request("ACK", 1, tag, "ack1"));
    return tag;
  }
  void on(ConnectionId c, const std::string& agent, const std::string& text) {
    dialogs.onRequest(c, agent, parse(text));
  }
  std::vector<std::string> keeps;
};

TEST_F(ReconnectTest, DialogSurvivesTheConnectionAndResumesWhenTheSameUaRegistersAgain) {
  std::string tag = established();
  dialogs.connectionClosed(7);
  EXPECT_TRUE(terminated.empty());
  EXPECT_EQ(incoming->state(), BrowserDialog::State::Confirmed);
  EXPECT_EQ(keeps, (std::vector<std::string>{"1001 waiting"}));
  // Genesys's DTMF during the gap waits for the browser.
  size_t before = transport.sent.size();
  EXPECT_TRUE(incoming->sendRequest("INFO", "application/dtmf-relay", "Signal=9\r\nDuration=300\r\n"));
  EXPECT_EQ(transport.sent.size(), before);
  // Another UA of the same agent (a reloaded page) is not this dialog's browser.
  dialogs.agentRegistered(binding("1001", "sip:other@h9.invalid;transport=ws", 8));
  EXPECT_EQ(transport.sent.size(), before);
  // The same JsSIP UA registers on its new connection (its REGISTER Contact has no ;ob).
  dialogs.agentRegistered(binding("1001", "sip:x1@h7.invalid;transport=ws", 9));
  ASSERT_EQ(transport.sent.size(), before + 1);
  EXPECT_EQ(transport.sent.back().rfind("INFO sip:x1@h7.invalid;transport=ws;ob SIP/2.0", 0), 0u);
  EXPECT_EQ(transport.to.back(), 9u);
  EXPECT_EQ(keeps, (std::vector<std::string>{"1001 waiting", "1001 done"}));
  // Past the grace nothing ends the call; the browser's requests on the new connection are the dialog's.
  test::pumpUntil(loop, [] { return false; }, std::chrono::milliseconds(500));
  EXPECT_TRUE(terminated.empty());
  on(9, "1001", request("UPDATE", 2, tag, "up1", "", "Session-Expires: 90;refresher=uac\r\n"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 200 OK", 0), 0u);
  EXPECT_EQ(transport.to.back(), 9u);
  incoming->hangup();
  EXPECT_EQ(transport.sent.back().rfind("BYE ", 0), 0u);
  EXPECT_EQ(transport.to.back(), 9u);
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialogs_resumed_total", "").load(), 1u);
}

TEST_F(ReconnectTest, InDialogRequestFromTheSameAgentsNewConnectionMovesTheDialog) {
  std::string tag = established();
  dialogs.connectionClosed(7);
  on(9, "1001", request("BYE", 2, tag, "bye1"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 200 OK", 0), 0u);
  EXPECT_EQ(transport.to.back(), 9u);
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(terminated[0], "BYE from the browser");
  EXPECT_EQ(keeps, (std::vector<std::string>{"1001 waiting", "1001 done"}));
}

TEST_F(ReconnectTest, AnotherAgentsConnectionCannotTakeOverTheDialog) {
  std::string tag = established();
  // Neither while the agent's connection is up (not even another connection of the same agent: another tab), nor
  // during the gap, nor unauthenticated.
  on(8, "1002", request("BYE", 2, tag, "bye1"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403", 0), 0u);
  EXPECT_EQ(transport.to.back(), 8u);
  on(9, "1001", request("INFO", 3, tag, "i0"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403", 0), 0u);
  EXPECT_EQ(incoming->connection(), 7u);
  dialogs.connectionClosed(7);
  on(8, "1002", request("INVITE", 4, tag, "re1", kSdp));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403", 0), 0u);
  on(10, "", request("INFO", 5, tag, "i1"));
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 403", 0), 0u);
  dialogs.agentRegistered(binding("1002", "sip:x1@h7.invalid;transport=ws", 8));  // even with the same Contact
  EXPECT_TRUE(terminated.empty());
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialog_foreign_connection_total", "").load(), 4u);
  // The dialog still waits for its own agent, and the grace ends it.
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return !terminated.empty(); }, std::chrono::seconds(3)));
  EXPECT_NE(terminated[0].find("did not reconnect"), std::string::npos) << terminated[0];
}

TEST_F(ReconnectTest, GraceExpiryEndsTheCallAndDropsWhatWaited) {
  established();
  dialogs.connectionClosed(7);
  for (int i = 0; i < 10; ++i) incoming->sendRequest("INFO", "application/dtmf-relay", "Signal=1\r\nDuration=100\r\n");
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialog_requests_dropped_total", "").load(), 2u);  // 8 wait at most
  ASSERT_TRUE(test::pumpUntil(loop, [&] { return !terminated.empty(); }, std::chrono::seconds(3)));
  EXPECT_NE(terminated[0].find("did not reconnect within"), std::string::npos) << terminated[0];
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialog_requests_dropped_total", "").load(), 10u);
  EXPECT_EQ(metrics.counter("rtcgate_wss_dialogs_reconnect_expired_total", "").load(), 1u);
  EXPECT_EQ(keeps, (std::vector<std::string>{"1001 waiting", "1001 done"}));
  EXPECT_EQ(dialogs.size(), 0u);
}

TEST_F(ReconnectTest, HangupDuringTheGapDeliversTheByeToTheReconnectedBrowser) {
  std::string tag = established();
  dialogs.connectionClosed(7);
  incoming->hangup();  // e.g. Genesys hung up meanwhile
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(keeps, (std::vector<std::string>{"1001 waiting", "1001 done"}));
  on(9, "1001", request("INFO", 2, tag, "i1"));  // the dialog is over for us
  EXPECT_EQ(transport.sent.back().rfind("SIP/2.0 481", 0), 0u);
  dialogs.agentRegistered(binding("1001", "sip:x1@h7.invalid;transport=ws", 9));
  EXPECT_EQ(transport.sent.back().rfind("BYE sip:x1@h7.invalid;transport=ws;ob SIP/2.0", 0), 0u);
  EXPECT_EQ(transport.to.back(), 9u);
  EXPECT_EQ(dialogs.size(), 0u);
}

TEST_F(ReconnectTest, AnotherBrowserOfTheAgentIsReportedToTheWaitingDialogOnly) {
  established();
  std::vector<std::string> newBrowsers;
  DialogEvents ev;
  ev.onAgentNewBrowser = [&](const Registration& r) { newBrowsers.push_back(r.contactUri + "@" + std::to_string(r.connection)); };
  incoming->setEvents(ev);
  dialogs.agentRegistered(binding("1001", "sip:other@h9.invalid;transport=ws", 8));  // its connection is still up
  EXPECT_TRUE(newBrowsers.empty());
  dialogs.connectionClosed(7);
  dialogs.agentRegistered(binding("1002", "sip:other@h9.invalid;transport=ws", 8));  // another agent
  EXPECT_TRUE(newBrowsers.empty());
  dialogs.agentRegistered(binding("1001", "sip:other@h9.invalid;transport=ws", 8));  // the page was reloaded
  EXPECT_EQ(newBrowsers, (std::vector<std::string>{"sip:other@h9.invalid;transport=ws@8"}));
  EXPECT_EQ(incoming->connection(), 7u);  // not moved: that browser has no such dialog
}

TEST_F(ReconnectTest, WithoutGraceOrBeforeTheAnswerTheConnectionEndsTheDialog) {
  in(request("INVITE", 1, "", "inv1", kSdp));
  incoming->respond(180, "Ringing");
  dialogs.connectionClosed(7);  // still ringing: JsSIP has failed the INVITE on its side
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_EQ(terminated[0], "connection closed");
  terminated.clear();
  dialogs.setReconnectGrace(std::chrono::milliseconds(0));
  in(request("INVITE", 1, "", "inv2", kSdp));
  incoming->respond(200, "OK", kSdp);
  dialogs.connectionClosed(7);
  ASSERT_EQ(terminated.size(), 1u);
  EXPECT_TRUE(keeps.empty());
}

}  // namespace
}  // namespace rtcgate::signaling
