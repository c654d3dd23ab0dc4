import Testing
@testable import NNCore

@Suite struct SplitMix64Tests {
    @Test func publishedFirstValuesForSeedZero() {
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(g.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func unitValuesAreTheTop53Bits() {
        var g = SplitMix64(seed: 0)
        let u = g.nextUnit()
        #expect(u == Double(UInt64(0xE220_A839_7B1D_CDAF) >> 11) / 9_007_199_254_740_992)
        #expect((0..<1000).allSatisfy { _ in (0..<1).contains(g.nextUnit()) })
    }
}
