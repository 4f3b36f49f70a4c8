// The status server's request reading, as pure functions: heads, refusals, keep-alive.
#include "status/http_request.h"

#include <gtest/gtest.h>

namespace orc {
namespace {

using State = ParsedRequest::State;

TEST(ParseRequestHead, ReadsAGetAndWhereItEnds) {
  const std::string head = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
  const auto r = parse_request_head(head + "GET /next", 8192);
  ASSERT_EQ(r.state, State::kComplete);
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.path, "/metrics");
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(r.head.length, head.size());
}

TEST(ParseRequestHead, WaitsForTheBlankLine) {
  for (const char* partial : {"", "G", "GET /healthz HTTP/1.1", "GET /healthz HTTP/1.1\r\n",
                              "GET /healthz HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\n\r"}) {
    EXPECT_EQ(parse_request_head(partial, 8192).state, State::kIncomplete) << partial;
  }
}

TEST(ParseRequestHead, AcceptsBareLineFeedsAndLeadingBlankLines) {
  const auto r = parse_request_head("\r\n\nGET /healthz HTTP/1.0\nConnection: keep-alive\n\n", 64);
  ASSERT_EQ(r.state, State::kComplete);
  EXPECT_EQ(r.head.path, "/healthz");
  EXPECT_TRUE(r.head.keep_alive);
}

TEST(ParseRequestHead, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n", 64).head.keep_alive);
  EXPECT_FALSE(
      parse_request_head("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", 64).head.keep_alive);
  EXPECT_FALSE(
      parse_request_head("GET / HTTP/1.1\r\nconnection: te, close\r\n\r\n", 64).head.keep_alive);
  EXPECT_TRUE(parse_request_head("GET / HTTP/1.1\r\n\r\n", 64).head.keep_alive);
}

TEST(ParseRequestHead, RefusesBodiesWithoutReadingThem) {
  for (const char* head : {"GET / HTTP/1.1\r\nContent-Length: 1500000000\r\n\r\n",
                           "POST / HTTP/1.1\r\ncontent-length: 1\r\n\r\n",
                           "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
    const auto r = parse_request_head(head, 8192);
    EXPECT_EQ(r.state, State::kBad) << head;
    EXPECT_EQ(r.status, 413) << head;
  }
  const auto empty_body = parse_request_head("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 64);
  EXPECT_EQ(empty_body.state, State::kComplete);
}

TEST(ParseRequestHead, CapsTheHeadWithOrWithoutItsEnd) {
  const std::string big_header = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse_request_head(big_header, 100).status, 431);
  EXPECT_EQ(parse_request_head(big_header, big_header.size()).state, State::kComplete);
  const std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a');
  EXPECT_EQ(parse_request_head(endless, 100).status, 431);
  EXPECT_EQ(parse_request_head(endless, 1000).state, State::kIncomplete);
}

TEST(ParseRequestHead, RefusesMalformedRequests) {
  struct Case {
    const char* text;
    int status;
  };
  for (const Case& c :
       {Case{"GET\r\n\r\n", 400}, Case{"GET /\r\n\r\n", 400},
        Case{"GET metrics HTTP/1.1\r\n\r\n", 400}, Case{"G(T / HTTP/1.1\r\n\r\n", 400},
        Case{"GET / HTTP/2.0\r\n\r\n", 505}, Case{"GET / FTP/1.1\r\n\r\n", 400},
        Case{"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400},
        Case{"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
        Case{"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
        Case{"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
        Case{"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400}}) {
    const auto r = parse_request_head(c.text, 8192);
    EXPECT_EQ(r.state, State::kBad) << c.text;
    EXPECT_EQ(r.status, c.status) << c.text;
  }
}

TEST(FormatResponse, HasLengthAndClosesWhenAsked) {
  EXPECT_EQ(format_response(200, "text/plain", "hi", true),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(format_response(405, "text/plain", "", false, {{"Allow", "GET"}}),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
            "Connection: close\r\nAllow: GET\r\n\r\n");
}

}  // namespace
}  // namespace orc
