import Testing

@testable import JobctlOutput

@Suite("ProgressBar")
struct ProgressBarTests {
    @Test("the full line: bar, counts, failures, rate and ETA")
    func fullLine() {
        #expect(
            ProgressBar.render(done: 250, total: 500, failed: 3, rate: 84.123, eta: 2.9, width: 80)
                == "[##########··········]  250/500  failed 3  84.1/s  ETA 3s")
    }

    @Test("done is padded to the total's width; no failures, rate or ETA when unknown")
    func sparse() {
        #expect(
            ProgressBar.render(done: 5, total: 500, failed: 0, rate: nil, eta: nil, width: 80)
                == "[····················]    5/500")
    }

    @Test("a finished bar is full and has no ETA")
    func finished() {
        #expect(
            ProgressBar.render(done: 40, total: 40, failed: 0, rate: 1234.4, eta: 0, width: 80)
                == "[####################]  40/40  1234/s")
    }

    @Test("long ETAs use minutes and hours")
    func longETA() {
        #expect(
            ProgressBar.render(done: 1, total: 10, failed: 0, rate: 0.01, eta: 3725, width: 80)
                == "[##··················]   1/10  0.0/s  ETA 1h 2m")
    }

    @Test("the line always fits in width - 1: the bar shrinks, then goes, then the text is cut")
    func narrow() {
        let text = "250/500  failed 3  84.1/s  ETA 3s"
        #expect(
            ProgressBar.render(done: 250, total: 500, failed: 3, rate: 84.1, eta: 3, width: text.count + 15)
                == "[#####·····]  " + text)
        #expect(
            ProgressBar.render(done: 250, total: 500, failed: 3, rate: 84.1, eta: 3, width: text.count + 5)
                == text)
        #expect(ProgressBar.render(done: 250, total: 500, failed: 3, rate: 84.1, eta: 3, width: 11) == "250/500  f")
        for width in 0...90 {
            let line = ProgressBar.render(done: 7, total: 500, failed: 1, rate: 3, eta: 100, width: width)
            #expect(line.count <= max(0, width - 1), "width \(width): \(line)")
        }
    }

    @Test("out-of-range inputs do not crash")
    func edges() {
        #expect(
            ProgressBar.render(done: 0, total: 0, failed: 0, rate: nil, eta: nil, width: 80)
                == "[####################]  0/0")
        #expect(
            ProgressBar.render(done: 9, total: 3, failed: 0, rate: .nan, eta: .infinity, width: 80)
                == "[####################]  3/3")
        #expect(
            ProgressBar.render(done: -1, total: 3, failed: 0, rate: nil, eta: nil, width: 80)
                == "[····················]  0/3")
    }
}
