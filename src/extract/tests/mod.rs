mod code;
mod suites;
