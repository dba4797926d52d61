// PNG encoding and decoding through libpng's "simplified" png_image API.
// libpng's classic API reports errors by longjmp, which would tear through Swift frames; the
// simplified API catches that inside libpng and hands back a return code plus a message instead.

import CPNG
import Foundation
import IMLBase

public enum PNG {
    /// The largest image we agree to allocate when decoding, so a forged header cannot exhaust memory.
    public static let maxDecodedBytes = 1 << 30

    /// Encodes 8-bit pixels, row-major, `channels` bytes per pixel (1 = gray, 3 = RGB).
    public static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws -> Data {
        guard channels == 1 || channels == 3 else {
            throw IMLError("PNG encode: channels must be 1 (gray) or 3 (RGB), got \(channels)")
        }
        guard width > 0, height > 0, width <= Int(Int32.max) / channels, height <= Int(Int32.max) else {
            throw IMLError("PNG encode: image size \(width)x\(height) is not a positive size libpng can write")
        }
        let (expected, overflow) = width.multipliedReportingOverflow(by: height * channels)
        guard !overflow, pixels.count == expected else {
            throw IMLError("PNG encode: \(width)x\(height)x\(channels) needs \(expected) bytes, got \(pixels.count)")
        }

        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = channels == 1 ? png_uint_32(PNG_FORMAT_GRAY) : png_uint_32(PNG_FORMAT_RGB)
        let rowStride = png_int_32(width * channels)

        return try pixels.withUnsafeBytes { buffer -> Data in
            // First pass asks for the size, second pass writes into a buffer of exactly that size.
            var size: png_alloc_size_t = 0
            guard png_image_write_to_memory(&image, nil, &size, 0, buffer.baseAddress, rowStride, nil) != 0 else {
                throw failure(of: "encode", image)
            }
            var output = Data(count: Int(size))
            let written = output.withUnsafeMutableBytes { out -> Int32 in
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, buffer.baseAddress, rowStride, nil)
            }
            guard written != 0 else { throw failure(of: "encode", image) }
            output.count = Int(size)
            return output
        }
    }

    /// Encodes and writes atomically (temporary file, then rename).
    public static func write(width: Int, height: Int, channels: Int, pixels: [UInt8], to url: URL) throws {
        let data = try encode(width: width, height: height, channels: channels, pixels: pixels)
        try AtomicFile.write(data, to: url)
    }

    /// Decodes any PNG libpng understands to 8-bit samples. `channels` follows the file:
    /// 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA (palette images come back as RGB or RGBA,
    /// 16-bit images are reduced to 8 bits).
    public static func decode(_ data: Data) throws -> (width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        guard !data.isEmpty else { throw IMLError("PNG decode: the data is empty") }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }

        // libpng keeps a pointer into `data` between begin and finish, so both live in one closure.
        return try data.withUnsafeBytes { bytes in
            guard png_image_begin_read_from_memory(&image, bytes.baseAddress, bytes.count) != 0 else {
                throw failure(of: "decode", image)
            }
            let hasColor = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
            let hasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
            let channels = (hasColor ? 3 : 1) + (hasAlpha ? 1 : 0)
            // Ask for plain 8-bit samples in the file's own channel layout.
            image.format = (hasColor ? png_uint_32(PNG_FORMAT_FLAG_COLOR) : 0)
                | (hasAlpha ? png_uint_32(PNG_FORMAT_FLAG_ALPHA) : 0)

            let width = Int(image.width), height = Int(image.height)
            let (count, overflow) = width.multipliedReportingOverflow(by: height * channels)
            guard !overflow, count > 0, count <= maxDecodedBytes else {
                throw IMLError("PNG decode: a \(width)x\(height) image with \(channels) channels is too large to decode")
            }
            var pixels = [UInt8](repeating: 0, count: count)
            let finished = pixels.withUnsafeMutableBytes { out -> Int32 in
                png_image_finish_read(&image, nil, out.baseAddress, 0, nil)
            }
            guard finished != 0 else { throw failure(of: "decode", image) }
            return (width, height, channels, pixels)
        }
    }

    /// Reads and decodes a PNG file.
    public static func read(_ url: URL) throws -> (width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw IMLError("cannot read PNG \(url.path): \(error.localizedDescription)")
        }
        do {
            return try decode(data)
        } catch let error as IMLError {
            throw IMLError("\(url.path): \(error.message)")
        }
    }

    private static func failure(of operation: String, _ image: png_image) -> IMLError {
        var message = image.message
        let text = withUnsafeBytes(of: &message) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return IMLError("PNG \(operation) failed: \(text.isEmpty ? "libpng gave no reason" : text)")
    }
}
