// gzip through zlib. Inflate streams in fixed chunks and never trusts the size written in the
// gzip trailer (a damaged or hostile file could claim anything); the decompressed size is capped
// instead, so a "zip bomb" gives an error rather than exhausting memory.

import CZlib
import IMLBase

public enum Gzip {
    /// The two bytes every gzip member starts with (RFC 1952).
    public static func hasGzipMagic<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var iterator = bytes.makeIterator()
        return iterator.next() == 0x1f && iterator.next() == 0x8b
    }

    /// Largest decompressed size accepted; the biggest MNIST file is 47 MB.
    public static let defaultMaximumOutput = 1 << 30

    /// Decompresses gzip data (one or more concatenated members). `name` only labels errors.
    public static func decompress(_ compressed: [UInt8], name: String,
                                  maximumOutput: Int = defaultMaximumOutput) throws -> [UInt8] {
        guard hasGzipMagic(compressed) else {
            throw IMLError("\(name): not a gzip stream (it does not start with the bytes 1f 8b); delete it and download again")
        }
        var stream = z_stream()
        // 15 + 32: largest window, and let zlib parse the gzip header and check the CRC.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw IMLError("\(name): zlib could not start decompressing (out of memory?); try again")
        }
        defer { inflateEnd(&stream) }

        let chunkSize = 1 << 20
        var output: [UInt8] = []
        output.reserveCapacity(min(maximumOutput, max(chunkSize, compressed.count.multipliedReportingOverflow(by: 5).partialValue)))
        var chunk = [UInt8](repeating: 0, count: chunkSize)

        try compressed.withUnsafeBufferPointer { input in
            var consumed = 0
            while true {
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                stream.avail_in = UInt32(min(input.count - consumed, Int(UInt32.max)))
                let availableBefore = Int(stream.avail_in)
                var status: Int32 = Z_OK
                var produced = 0
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    produced = out.count - Int(stream.avail_out)
                }
                consumed += availableBefore - Int(stream.avail_in)
                if produced > 0 {
                    guard output.count <= maximumOutput - produced else {
                        throw IMLError("\(name): decompresses to more than \(maximumOutput) bytes, which no idx file this program reads does; delete it and download again")
                    }
                    chunk.withUnsafeBufferPointer { output.append(contentsOf: $0[0..<produced]) }
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let rest = input[consumed...]
                    if rest.isEmpty { return }
                    // Another gzip member follows (as `cat a.gz b.gz` makes): keep going.
                    if hasGzipMagic(rest) {
                        guard inflateReset(&stream) == Z_OK else {
                            throw IMLError("\(name): zlib could not restart for the next gzip member; delete it and download again")
                        }
                        continue
                    }
                    throw IMLError("\(name): \(rest.count) bytes of garbage after the end of the gzip data; delete it and download again")
                case Z_BUF_ERROR where consumed == input.count:
                    throw IMLError("\(name): the gzip stream is truncated (the file ends at byte \(input.count) before the gzip end marker); delete it and download again")
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let detail = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw IMLError("\(name): corrupt gzip data (\(detail)); delete it and download again")
                case Z_MEM_ERROR:
                    throw IMLError("\(name): out of memory while decompressing; free some memory and try again")
                default:
                    throw IMLError("\(name): corrupt gzip data (zlib status \(status)); delete it and download again")
                }
            }
        }
        return output
    }

    /// gzip-compresses `bytes` (used to write test fixtures and tiny synthetic datasets).
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: largest window, wrapped in a gzip header and trailer.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw IMLError("zlib could not start compressing (out of memory?); try again")
        }
        defer { deflateEnd(&stream) }
        guard bytes.count <= Int(UInt32.max) / 2 else {
            throw IMLError("cannot gzip \(bytes.count) bytes in one call; the limit is 2 GiB")
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var status: Int32 = Z_OK
        var produced = 0
        bytes.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = UInt32(input.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                status = deflate(&stream, Z_FINISH)
                produced = out.count - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else {
            throw IMLError("zlib could not compress \(bytes.count) bytes (status \(status))")
        }
        output.removeLast(output.count - produced)
        return output
    }
}
