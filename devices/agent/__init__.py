"""The station agent: connects a PC's devices to the server over Socket.IO."""
