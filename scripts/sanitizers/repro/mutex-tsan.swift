// Synchronization.Mutex is invisible to ThreadSanitizer on Linux when contended (see
// ../tsan.supp):
//   swiftc -sanitize=thread mutex-tsan.swift -o /tmp/m && /tmp/m && /tmp/m nslock
// The first run prints "WARNING: ThreadSanitizer: Swift access race" for accesses made
// inside Mutex.withLock (6.3.1); the second, the same loop behind NSLock (a pthread
// mutex, which TSan intercepts), prints none.
import Foundation
import Synchronization

final class MutexBox: Sendable {
    let state = Mutex<[Int: Int]>([:])
    func add(_ i: Int, _ t: Int) { state.withLock { $0[i % 64, default: 0] += t } }
}
final class LockBox: @unchecked Sendable {
    let lock = NSLock()
    var state: [Int: Int] = [:]
    func add(_ i: Int, _ t: Int) { lock.withLock { state[i % 64, default: 0] += t } }
}
let useNSLock = CommandLine.arguments.dropFirst().first == "nslock"
let mutexBox = MutexBox()
let lockBox = LockBox()
let threads = (0..<4).map { t in
    Thread {
        for i in 0..<20000 { if useNSLock { lockBox.add(i, t) } else { mutexBox.add(i, t) } }
    }
}
threads.forEach { $0.start() }
Thread.sleep(forTimeInterval: 3)
print(useNSLock ? "NSLock" : "Mutex", "done")
