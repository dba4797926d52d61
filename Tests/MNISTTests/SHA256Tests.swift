import Foundation
@testable import MNIST
import XCTest

final class SHA256Tests: XCTestCase {
    // FIPS 180-4 / NIST CAVS example vectors.
    func testStandardVectors() {
        XCTAssertEqual(SHA256.hexDigest(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexDigest(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexDigest(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding the message in uneven pieces must give the same digest as one call, whatever the
    /// split points relative to the 64-byte block boundary.
    func testIncrementalUpdatesMatchOneShot() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let expected = SHA256.hash(message)
        for pieceSize in [1, 3, 63, 64, 65, 200] {
            var hasher = SHA256()
            var offset = 0
            while offset < message.count {
                let end = min(offset + pieceSize, message.count)
                hasher.update(Array(message[offset..<end]))
                offset = end
            }
            XCTAssertEqual(hasher.finalize(), expected, "pieces of \(pieceSize) bytes")
        }
    }

    /// Messages whose padding crosses into an extra block (55, 56, 64 bytes) hash differently
    /// from their neighbours and consistently between one-shot and byte-wise hashing.
    func testPaddingBoundaries() {
        var digests = Set<[UInt8]>()
        for length in [55, 56, 57, 63, 64, 65] {
            let message = [UInt8](repeating: 0x61, count: length)
            var hasher = SHA256()
            for byte in message { hasher.update([byte]) }
            let digest = hasher.finalize()
            XCTAssertEqual(digest, SHA256.hash(message), "length \(length)")
            digests.insert(digest)
        }
        XCTAssertEqual(digests.count, 6)
    }
}
