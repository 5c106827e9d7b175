DROP INDEX users_admin_name;
DROP INDEX users_unverified_name;
DROP INDEX users_disabled_name;
DROP INDEX users_admin_email;
DROP INDEX users_unverified_email;
DROP INDEX users_disabled_email;
DROP INDEX users_name_lower;
DROP TABLE roles;
