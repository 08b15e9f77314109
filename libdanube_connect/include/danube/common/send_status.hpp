#pragma once

namespace danube {

// What became of an item offered to a bounded queue (a source's record, among others).
enum class SendStatus { sent, timed_out, closed };

}  // namespace danube
