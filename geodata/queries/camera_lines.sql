-- Counting lines of a camera (issue 14), saved by the line editor on /cameras beside its zones.

-- name: dash_camera_set_lines
-- The update bumps grid_revision by trigger like any camera change, so camera workers restart the camera
-- with its new lines.
UPDATE camera SET config = jsonb_set(coalesce(config, '{}'::jsonb), '{lines}', %(lines)s) WHERE code = %(code)s
RETURNING code;
