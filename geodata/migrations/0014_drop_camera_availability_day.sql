-- camera_availability_day held daily snapshots of camera.health taken by analysis refreshes before
-- migration 0011; since then availability per CST day is computed from camera_health_log, and no
-- code writes or reads this table. Its old snapshots are coarser than the log (one sample a day), so
-- nothing is lost that a report uses.
DROP TABLE camera_availability_day;
