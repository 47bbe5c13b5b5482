"""Back-end labs on one machine: bring a real back end and a client host up and down."""
