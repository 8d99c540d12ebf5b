// LeakSanitizer misses a live object held in a multi-payload enum (see ../lsan.supp):
//   swiftc -sanitize=address enum-lsan.swift -o /tmp/l && /tmp/l
// reports "Direct leak of 32 byte(s)" for the B still referenced by `global` (6.3.1):
// Swift keeps the case tag in the pointer's spare bits, LSan scans for plain pointers.
final class A { var x = [1, 2, 3] }
final class B { var y = "b" }
enum E { case a(A), b(B), none }
nonisolated(unsafe) var global: E = .none
global = .b(B())
print("ok")
