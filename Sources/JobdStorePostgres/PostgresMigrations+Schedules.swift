extension PostgresMigrations {
    /// Version 7: schedules, as SQLite's schema v7 (`SQLiteJobStore+Schedules.swift`): one
    /// row per schedule, its declaration as JSON beside the columns the store compares.
    static let schedules = """
        CREATE TABLE schedules (
            name text PRIMARY KEY,
            spec text NOT NULL,
            source text NOT NULL CHECK (source IN ('api', 'config')),
            owner_uid bigint,
            paused boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            last_slot timestamptz,
            last_job_id bigint
        );
        """
}
