-- PostgreSQL gets a function that stores a pending sign-in under its address's cap in one
-- statement. SQLite needs none: its one INSERT … SELECT … WHERE (count) < cap holds the
-- write lock from its start, so the count and the insert are already atomic.
SELECT 1;
