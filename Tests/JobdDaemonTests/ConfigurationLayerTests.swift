import Foundation
import Testing

@testable import JobdDaemon

/// The sources themselves: unknown keys and variables, unreadable and odd files.
@Suite struct ConfigurationLayerTests {
    @Test("a misspelt key in the file is refused with the nearest key as a suggestion")
    func misspeltKey() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("fetch:\n  timout: 5\n")
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect(error.code == .unknownKey)
            #expect(error.exitStatus == .badConfiguration)
            #expect(
                "\(error)"
                    == "invalid configuration: fetch.timout: unknown key (did you mean fetch.timeout?) (in \(path))")
        }
    }

    @Test("a key far from every known one is refused without a suggestion")
    func unknownKeyWithoutSuggestion() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("workers: 4\nzzzzzzzzzzzz: 1\n")
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect("\(error)" == "invalid configuration: zzzzzzzzzzzz: unknown key (in \(path))")
        }
    }

    @Test("a section given a value is refused, naming its keys")
    func sectionAsValue() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("log: debug\n")
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: path) }
            #expect(error.code == .unknownKey)
            #expect(
                "\(error)"
                    == "invalid configuration: log: is a section of keys (log.level, log.format), not a value (in \(path))"
            )
        }
    }

    @Test("a section whose keys are all commented out is an empty section, not an error")
    func emptySection() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load(yaml: "limits:\n  # fetch: 4\nworkers: 2\n")
            #expect(loaded.configuration.workers == 2)
            #expect(loaded.configuration.kindLimits.isEmpty)
        }
    }

    @Test("an unknown JOBD_ variable is ignored with a warning naming the nearest variable")
    func unknownVariable() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load(environment: ["JOBD_WORKRES": "3", "JOBD_REPO": "x"])
            #expect(loaded.configuration.workers == DaemonConfiguration.defaults.workers)
            #expect(
                loaded.warnings == [
                    "JOBD_REPO is not a jobd variable; ignored",
                    "JOBD_WORKRES is not a jobd variable; ignored (did you mean JOBD_WORKERS?)",
                ])
            #expect(try fixture.load(environment: ["JOBD_WORKERS": "3"]).warnings.isEmpty)
        }
    }

    @Test("JOBD_ variables of jobd's tools are not keys but are accepted; other variables are ignored")
    func otherVariables() throws {
        try withConfigurationFixture { fixture in
            let loaded = try fixture.load(environment: [
                "JOBD_TEST_HANG_WRITER": "after:1s", "JOBD_BIN_DIR": "/tmp", "JOBDX": "1", "WORKERS": "3",
            ])
            #expect(loaded.configuration.workers == DaemonConfiguration.defaults.workers)
        }
    }

    @Test("a file named by --config or JOBD_CONFIG must exist; the error names what named it")
    func missingFile() throws {
        try withConfigurationFixture { fixture in
            let missing = fixture.directory.appendingPathComponent("missing.yaml").path
            let flag = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: missing) }
            #expect(flag.code == .unreadableFile)
            #expect(flag.exitStatus == .badConfiguration)
            #expect(
                "\(flag)"
                    == "invalid configuration: config: cannot read \(missing): No such file or directory (in --config)")
            let variable = try #require(throws: ConfigurationError.self) {
                try fixture.load(environment: ["JOBD_CONFIG": missing])
            }
            #expect(
                "\(variable)"
                    == "invalid configuration: config: cannot read \(missing): No such file or directory (in JOBD_CONFIG)"
            )
        }
    }

    @Test("a file that is not YAML, or not a mapping, is refused naming the file")
    func notYAML() throws {
        try withConfigurationFixture { fixture in
            let broken = try fixture.writeFile("workers: 4\n  bad indentation: [\n", named: "broken.yaml")
            let error = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: broken) }
            #expect(error.code == .unreadableFile)
            #expect(error.key == "config")
            #expect(error.source == broken)
            #expect("\(error)".hasPrefix("invalid configuration: config: \(broken) is not valid jobd YAML: "))
            let list = try fixture.writeFile("- workers\n- 4\n", named: "list.yaml")
            let notMapping = try #require(throws: ConfigurationError.self) { try fixture.load(configPath: list) }
            #expect(
                "\(notMapping)"
                    == "invalid configuration: config: \(list) is not valid jobd YAML: "
                    + "Top level YAML value is not a mapping. (in \(list))")
        }
    }

    @Test("a file of comments only is a valid, empty configuration")
    func commentsOnly() throws {
        try withConfigurationFixture { fixture in
            let path = try fixture.writeFile("# nothing here\n---\n\n# workers: 4\n")
            let loaded = try fixture.load(configPath: path)
            #expect(loaded.file == path)
            #expect(loaded.configuration.workers == DaemonConfiguration.defaults.workers)
            #expect(loaded.origins["workers"] == "default")
        }
    }

    @Test("the suggestion is the nearest candidate within three edits, or none")
    func nearest() {
        #expect(ConfigurationLayer.nearest(to: "wokers", among: ["workers", "grace"]) == "workers")
        #expect(ConfigurationLayer.nearest(to: "LOG.LEVL", among: ["log.level", "log.format"]) == "log.level")
        #expect(ConfigurationLayer.nearest(to: "something", among: ["workers", "grace"]) == nil)
    }
}
