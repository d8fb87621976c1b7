// Health check of the compose MongoDB: healthy once this node is PRIMARY of rs0.
// On the first run the set does not exist yet: initiate it and report "not yet".
try {
  const status = rs.status();
  const primary = status.members.some((m) => m.self && m.stateStr === "PRIMARY");
  quit(primary ? 0 : 1);
} catch (error) {
  rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
  quit(1);
}
