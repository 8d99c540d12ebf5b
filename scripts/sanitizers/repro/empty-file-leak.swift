// FoundationEssentials leaks 4 KiB per read of an empty file on Linux (see ../lsan.supp).
//   swiftc -sanitize=address empty-file-leak.swift -o /tmp/e && /tmp/e
// reports "40960 byte(s) leaked in 10 allocation(s)" allocated in readBytesFromFile.
import Foundation

let path = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(getpid())")
FileManager.default.createFile(atPath: path.path, contents: nil)
for _ in 0..<10 { _ = try String(contentsOf: path, encoding: .utf8) }
try FileManager.default.removeItem(at: path)
