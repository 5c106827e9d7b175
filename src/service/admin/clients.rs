//! Admin console: clients.
