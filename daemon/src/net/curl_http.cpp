#include "net/curl_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>

namespace orc {

namespace {

// What one transfer's callbacks share: where the answer goes and why a transfer was stopped.
struct Transfer {
  std::string* body = nullptr;
  std::map<std::string, std::string>* headers = nullptr;
  std::size_t limit = 0;
  std::stop_token abort;
  bool too_large = false;
  bool out_of_memory = false;
};

// Before the first bytes of a body: room for the length the answer declares (within the cap),
// so that a large answer is not copied again each time the text outgrows its buffer, and 64
// bytes more, which a parser that reads ahead of the text's end (simdjson) may then use
// instead of a copy of the body.
constexpr std::size_t kRoomAfterBody = 64;
void reserve_declared(Transfer& t) {
  const auto it = t.headers->find("content-length");
  if (it == t.headers->end()) return;
  std::size_t length = 0;
  const std::string& v = it->second;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), length);
  if (ec != std::errc() || end != v.data() + v.size() || length > t.limit) return;
  t.body->reserve(length + kRoomAfterBody);
}

// Returning anything but size * n makes libcurl fail the transfer (CURLE_WRITE_ERROR).
size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (bytes > t->limit - std::min(t->limit, t->body->size())) {
    t->too_large = true;  // decoded bytes: a compressed answer is bounded here too
    return 0;
  }
  try {
    if (t->body->empty()) reserve_declared(*t);
    t->body->append(data, bytes);
  } catch (const std::bad_alloc&) {
    t->out_of_memory = true;
    return 0;
  }
  return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->headers->clear();  // a new response (after a 100 Continue or a redirect)
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  try {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*t->headers)[std::move(name)] = std::string(value);
  } catch (const std::bad_alloc&) {
    t->out_of_memory = true;
    return 0;
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t received, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->abort.stop_requested()) return 1;
  // Bytes on the wire (before decoding): an answer that is large even compressed.
  if (received > 0 && static_cast<std::size_t>(received) > t->limit) {
    t->too_large = true;
    return 1;
  }
  return 0;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

const char* env_no_proxy() {
  const char* lower = std::getenv("no_proxy");
  return lower != nullptr ? lower : std::getenv("NO_PROXY");
}

}  // namespace

ProxyRule proxy_rule(std::string_view url, const char* env_no_proxy) {
  ProxyRule rule;
  rule.no_proxy_at_all = starts_with_nocase(url, "http://");
  rule.no_proxy = "127.0.0.0/8,::1,localhost";
  if (env_no_proxy != nullptr && *env_no_proxy != '\0') {
    rule.no_proxy += ",";
    rule.no_proxy += env_no_proxy;
  }
  return rule;
}

void curl_global_setup() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("libcurl initialisation failed");
  }
}

CurlHttpClient::CurlHttpClient(const Clock& clock, std::size_t max_response_bytes,
                               std::stop_token abort, std::string ca_file)
    : clock_(clock),
      max_response_bytes_(max_response_bytes),
      abort_(std::move(abort)),
      ca_file_(std::move(ca_file)) {}

CurlHttpClient::~CurlHttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlHttpClient::take_handle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlHttpClient::give_back(void* handle) {
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

namespace {

using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

// The request's headers as libcurl takes them; nullopt when out of memory.
std::optional<HeaderList> header_list(const HttpRequest& request) {
  HeaderList headers;
  const auto append = [&headers](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return false;
    (void)headers.release();
    headers.reset(next);
    return true;
  };
  for (const auto& [name, value] : request.headers) {
    if (!append(name + ": " + value)) return std::nullopt;
  }
  // Keep libcurl from adding "Expect: 100-continue" to bodies over 1 KiB: one round trip less.
  (void)append("Expect:");
  return headers;
}

// What to send, where, and how long to wait: never following a redirect, never through a
// proxy for plain http://.
void set_request(CURL* curl, const HttpRequest& request, std::chrono::milliseconds timeout,
                 curl_slist* headers, const ProxyRule& proxy) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "GET") curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  if (!request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<long long>(timeout.count(), 10000)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // never carry credentials elsewhere
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOPROXY, proxy.no_proxy.c_str());
  if (proxy.no_proxy_at_all) curl_easy_setopt(curl, CURLOPT_PROXY, "");
}

// How the answer is trusted and read: the CA, decompression, the size cap, the callbacks
// that fill `transfer`, and the error text.
void set_transfer(CURL* curl, Transfer& transfer, char* errbuf, const std::string& ca_file,
                  std::size_t max_response_bytes) {
  if (!ca_file.empty()) {  // this CA alone: neither the system bundle nor its folder
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);
  }
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  // A whole-zone listing is about 350 KB: read in 128 KiB pieces, not libcurl's default 16 KiB,
  // it takes 4 reads instead of 22, and half the polls (--once over 100 zones: 8,600 system
  // calls -> 5,000). 128 KiB a pooled handle.
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 128L * 1024);
  // A declared Content-Length over the cap fails before any of the body is read.
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_response_bytes));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
}

// A transfer that did not complete: why, in words for the log.
void fail_transfer(HttpResponse& response, CURLcode rc, const Transfer& transfer,
                   const char* errbuf, std::size_t max_response_bytes) {
  response.status = 0;
  std::string().swap(response.body);  // give the memory back now
  if (transfer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    response.too_large = true;
    response.transport_error = "answer larger than cloudflare.max_response_bytes (" +
                               std::to_string(max_response_bytes) +
                               " bytes, counted after decompression)";
  } else if (transfer.out_of_memory) {
    response.transport_error = "out of memory reading the answer";
  } else {
    response.transport_error = std::strlen(errbuf) ? errbuf : curl_easy_strerror(rc);
  }
}

}  // namespace

HttpResponse CurlHttpClient::perform(const HttpRequest& request,
                                     std::chrono::milliseconds timeout) {
  HttpResponse response;
  CURL* curl = static_cast<CURL*>(take_handle());
  if (curl == nullptr) {
    response.transport_error = "could not create a libcurl handle";
    return response;
  }
  curl_easy_reset(curl);  // keeps the connection cache, forgets the last request's options
  std::optional<HeaderList> headers = header_list(request);
  if (!headers) {
    give_back(curl);
    response.transport_error = "out of memory building headers";
    return response;
  }
  Transfer transfer{&response.body, &response.headers, max_response_bytes_, abort_};
  char errbuf[CURL_ERROR_SIZE] = {0};
  const ProxyRule proxy = proxy_rule(request.url, env_no_proxy());
  set_request(curl, request, timeout, headers->get(), proxy);
  set_transfer(curl, transfer, errbuf, ca_file_, max_response_bytes_);

  const CURLcode rc = curl_easy_perform(curl);
  response.received_at = clock_.wall();
  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
  } else {
    fail_transfer(response, rc, transfer, errbuf, max_response_bytes_);
  }
  // Detach pointers into this call's stack before the handle goes back to the pool.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  give_back(curl);
  return response;
}

}  // namespace orc
