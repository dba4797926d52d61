// idx-fuzz: feeds arbitrary bytes to the idx reader (gzip detection, inflate, image and label
// parsing, split construction). The reader must answer every input with a value or an IMLError;
// a trap, sanitizer report or hang is a bug.
//
// Built two ways from this one file:
//   swift build                                  -> a replayer: `idx-fuzz FILE...` runs each file
//                                                   once and prints what the reader said
//   scripts/fuzz-idx.sh SECONDS (-DFUZZING, -sanitize=fuzzer,address)
//                                                -> the libFuzzer binary; libFuzzer's own driver
//                                                   (LLVMFuzzerRunDriver) runs the campaign

import Foundation
import IMLBase
import MNIST

/// Smaller than the reader's 1 GiB cap so one input cannot take seconds to inflate; the cap
/// itself is tested by the unit tests.
let fuzzMaximumOutput = 16 << 20

/// One input through every entry point; returns a short description of the outcome.
@discardableResult
func readIDX(_ input: [UInt8]) -> String {
    var outcomes: [String] = []
    var bytes = input
    var wasGzip = false
    if Gzip.hasGzipMagic(input) {
        do {
            bytes = try Gzip.decompress(input, name: "input", maximumOutput: fuzzMaximumOutput)
            wasGzip = true
            outcomes.append("gunzipped to \(bytes.count) bytes")
        } catch {
            return "gzip error: \(error)"
        }
    }
    var images: (count: Int, rows: Int, cols: Int, pixels: [UInt8])?
    do {
        images = try IDX.parseImages(bytes, name: "input", wasGzip: wasGzip, expectedRows: nil, expectedCols: nil)
        _ = try IDX.parseImages(bytes, name: "input", wasGzip: wasGzip)
        outcomes.append("images ok")
    } catch {
        outcomes.append("images: \(error)")
    }
    do {
        let labels = try IDX.parseLabels(bytes, name: "input", wasGzip: wasGzip)
        outcomes.append("labels ok")
        if let images {
            let split = try MNISTSplit(count: images.count, rows: images.rows, cols: images.cols,
                                       images: images.pixels, labels: labels)
            outcomes.append("split of \(split.count)")
        }
    } catch {
        outcomes.append("labels: \(error)")
    }
    return outcomes.joined(separator: "; ")
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

@main
enum IDXFuzz {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            readIDX(Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
        #else
        let paths = CommandLine.arguments.dropFirst()
        if paths.isEmpty {
            FileHandle.standardError.write(Data("usage: idx-fuzz FILE...  (replays inputs; scripts/fuzz-idx.sh SECONDS runs the fuzzer)\n".utf8))
            exit(2)
        }
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("error: cannot read \(path); check the path.\n".utf8))
                exit(1)
            }
            print("\(path): \(readIDX([UInt8](data)))")
        }
        #endif
    }
}
