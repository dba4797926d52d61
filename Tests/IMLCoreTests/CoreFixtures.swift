// Small helpers shared by the layer and optimizer tests.

import IMLBase
import IMLCore

enum CoreFixtures {
    /// A tensor of the given shape with entries uniform in [-1, 1).
    static func random(_ shape: [Int], _ rng: inout SeededRandom) -> Tensor {
        let t = Tensor(shape)
        t.fillUniform(-1, 1, &rng)
        return t
    }

    /// Entries uniform in [-1, 1) but at least `gap` away from each other and from 0, in a random
    /// order, so that a finite-difference step of less than gap/2 never crosses a kink of ReLU
    /// (at 0) or changes the winner of a max-pool window.
    static func separated(_ shape: [Int], gap: Float, _ rng: inout SeededRandom) -> Tensor {
        let t = Tensor(shape)
        let order = rng.permutation(t.count)
        for i in 0..<t.count {
            // Ranks 0..<n spread over [-1, 1) with spacing gap, skipping the band around zero.
            let rank = Float(order[i]) - Float(t.count) / 2
            t[i] = (rank + (rank >= 0 ? 0.5 : -0.5)) * gap
        }
        return t
    }
}
