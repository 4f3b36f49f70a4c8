// libFuzzer target: one Kubernetes API answer body through parse_lease, status_message,
// interpret_lease_answer and interpret_event_answer (the events API's answers). None may throw
// or crash, whatever the nesting (the depth bound of base/json_bounds.h); a Lease read must read
// back from the update body written for it, an Event read has a name, and a message made of an
// answer stays short and printable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "kube/event.h"
#include "kube/lease.h"
#include "kube/lease_client.h"
#include "net/http.h"

using orc::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto lease = orc::parse_lease(body);
  if (lease.ok()) {
    check(!lease->resource_version.empty(), "a Lease without a resourceVersion was accepted");
    const std::string written = orc::updated_lease_body(*lease, lease->record);
    const auto again = orc::parse_lease(written);
    check(again.ok(), "the update body does not read back: " + written.substr(0, 300));
    check(again->record == lease->record, "the record changed through the update body");
    check(again->resource_version == lease->resource_version, "the resourceVersion changed");
  } else {
    check(lease.error().message.size() <= 1024, "a parse error longer than 1 KiB");
  }
  const std::string message = orc::status_message(body);
  check(message.size() <= 512, "a status message longer than 512 bytes");
  for (const char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    check(c >= 0x20 && c != 0x7f, "a status message holds a raw control character");
  }
  for (const int status : {200, 201, 404, 409, 500}) {
    orc::HttpResponse response;
    response.status = status;
    response.body = std::string(body);
    const orc::LeaseReply reply = orc::interpret_lease_answer(response);
    check(!reply.ok() || status == 200 || status == 201, "a Lease read from an error status");
    const orc::EventReply event = orc::interpret_event_answer(response);
    if (event.ok()) {
      check(status == 200 || status == 201, "an Event read from an error status");
      check(!event->name.empty(), "an Event without a name was accepted");
    } else {
      const std::string& error = event.error().message;
      check(error.size() <= 600, "an events API error longer than 600 bytes");
      for (const char ch : error) {
        const auto c = static_cast<unsigned char>(ch);
        check(c >= 0x20 && c != 0x7f, "an events API error holds a raw control character");
      }
    }
  }
  return 0;
}
