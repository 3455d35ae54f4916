-- docs/province.md § Partitioning: the DDL of `submission` and `visit` partitioned by town, checked on a migrated
-- taizhang database (PostgreSQL 13 or newer). Everything runs in one transaction that is rolled back: the database
-- is left as it was (use a copy all the same: it reads every submission).
--
--   psql -h 127.0.0.1 -U postgres -d <a migrated database> -v ON_ERROR_STOP=1 -f bench/partition_check.sql
--
-- It creates the partitioned copies (one partition per town, a default one), fills them from the real tables,
-- checks that every row landed once and in its town's partition, and runs, through the parent tables, the kinds of
-- query the app makes (by household, by instanceID through submission_key, by area) with their plans, showing
-- whether a query naming the town reads one partition. It does not run the application on them (see the page).
\set QUIET on
BEGIN;

CREATE TABLE submission_p (
    id               bigint       NOT NULL DEFAULT nextval('submission_id_seq'),
    town_id          integer      NOT NULL,
    instance_id      varchar(255) NOT NULL,
    root_instance_id varchar(255) NOT NULL,
    deprecated_id    varchar(255),
    form_id          integer      NOT NULL REFERENCES form (id),
    form_version_id  integer      NOT NULL REFERENCES form_version (id),
    xml              bytea        NOT NULL,
    xml_sha256       varchar(64)  NOT NULL,
    submitter_id     integer      REFERENCES app_user (id),
    area_id          integer      REFERENCES area (id),
    collector_name   varchar(64),
    device_id        varchar(255),
    user_agent       varchar(500),
    received_at      timestamptz  NOT NULL,
    PRIMARY KEY (town_id, id)
) PARTITION BY LIST (town_id);
CREATE INDEX ON submission_p (root_instance_id);
CREATE INDEX ON submission_p (form_id);
CREATE INDEX ON submission_p (submitter_id);
CREATE INDEX ON submission_p (area_id);
CREATE TABLE submission_key (
    instance_id   varchar(255) PRIMARY KEY,
    deprecated_id varchar(255) UNIQUE,
    town_id       integer NOT NULL,
    submission_id bigint  NOT NULL,
    FOREIGN KEY (town_id, submission_id) REFERENCES submission_p (town_id, id)
);
CREATE TABLE visit_p (
    town_id        integer      NOT NULL,
    submission_id  bigint       NOT NULL,
    form           varchar(100) NOT NULL,
    household_uuid varchar(64),
    person_uuid    varchar(64),
    visited_at     timestamptz,
    visit_date     date,
    outcome        varchar(20)  NOT NULL,
    completed      boolean      NOT NULL,
    followup_type  varchar(30),
    refusal        varchar(40),
    form_version   varchar(64),
    next_visit     date,
    notes          text,
    latitude       double precision,
    longitude      double precision,
    altitude       double precision,
    accuracy       double precision,
    PRIMARY KEY (town_id, submission_id),
    FOREIGN KEY (town_id, submission_id) REFERENCES submission_p (town_id, id)
) PARTITION BY LIST (town_id);
CREATE INDEX ON visit_p (household_uuid);
CREATE INDEX ON visit_p (person_uuid);

-- one partition per town (an area whose path has one id), and a default one
DO $$
DECLARE town integer;
BEGIN
    FOR town IN SELECT id FROM area WHERE path ~ '^/[0-9]+/$' ORDER BY id LOOP
        EXECUTE format('CREATE TABLE submission_town_%s PARTITION OF submission_p FOR VALUES IN (%s)', town, town);
        EXECUTE format('CREATE TABLE visit_town_%s PARTITION OF visit_p FOR VALUES IN (%s)', town, town);
    END LOOP;
END $$;
CREATE TABLE submission_other PARTITION OF submission_p DEFAULT;
CREATE TABLE visit_other PARTITION OF visit_p DEFAULT;

INSERT INTO submission_p (id, town_id, instance_id, root_instance_id, deprecated_id, form_id, form_version_id, xml,
                          xml_sha256, submitter_id, area_id, collector_name, device_id, user_agent, received_at)
SELECT s.id, split_part(a.path, '/', 2)::int, s.instance_id, s.root_instance_id, s.deprecated_id, s.form_id,
       s.form_version_id, s.xml, s.xml_sha256, s.submitter_id, s.area_id, s.collector_name, s.device_id,
       s.user_agent, s.received_at
  FROM submission s JOIN area a ON a.id = s.area_id;
INSERT INTO submission_key (instance_id, deprecated_id, town_id, submission_id)
SELECT instance_id, deprecated_id, town_id, id FROM submission_p;
INSERT INTO visit_p (town_id, submission_id, form, household_uuid, person_uuid, visited_at, visit_date, outcome,
                     completed, followup_type, refusal, form_version, next_visit, notes, latitude, longitude,
                     altitude, accuracy)
SELECT sp.town_id, v.submission_id, v.form, v.household_uuid, v.person_uuid, v.visited_at, v.visit_date, v.outcome,
       v.completed, v.followup_type, v.refusal, v.form_version, v.next_visit, v.notes, v.latitude, v.longitude,
       v.altitude, v.accuracy
  FROM visit v JOIN submission_p sp ON sp.id = v.submission_id;
ANALYZE submission_p;
ANALYZE visit_p;

\set QUIET off
\echo '== rows: the real tables and their partitioned copies (must be equal)'
SELECT (SELECT count(*) FROM submission) AS submission, (SELECT count(*) FROM submission_p) AS submission_p,
       (SELECT count(*) FROM submission_key) AS submission_key,
       (SELECT count(*) FROM visit) AS visit, (SELECT count(*) FROM visit_p) AS visit_p;
\echo '== rows per partition (none in the default ones)'
SELECT tableoid::regclass AS partition, count(*) FROM submission_p GROUP BY 1
UNION ALL SELECT tableoid::regclass, count(*) FROM visit_p GROUP BY 1 ORDER BY 1;
\echo '== intake: a retry of a stored instanceID does nothing (ON CONFLICT on the global key table)'
INSERT INTO submission_key (instance_id, deprecated_id, town_id, submission_id)
SELECT instance_id, NULL, town_id, submission_id FROM submission_key LIMIT 1
ON CONFLICT DO NOTHING RETURNING instance_id;
\echo '== a household''s visits, the town named: one partition read'
EXPLAIN (COSTS OFF) SELECT * FROM visit_p WHERE town_id = 1 AND household_uuid = 'x';
\echo '== the same without the town: every partition''s index'
EXPLAIN (COSTS OFF) SELECT * FROM visit_p WHERE household_uuid = 'x';
\echo '== a village''s submissions joined to their visits (the pages'' kind of read), by area path'
SELECT count(*) AS village_visits FROM visit_p v JOIN submission_p s ON (s.town_id, s.id) = (v.town_id, v.submission_id)
  JOIN area a ON a.id = s.area_id
 WHERE s.town_id = 1 AND a.path LIKE (SELECT path FROM area WHERE path ~ '^/1/[0-9]+/$' ORDER BY id LIMIT 1) || '%';
ROLLBACK;
\echo '== rolled back: the database is as it was'
