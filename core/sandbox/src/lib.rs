//! A faithful local bexio.
pub mod api;
pub mod clock;
pub mod company;
pub mod model;
