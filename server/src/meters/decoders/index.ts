// Importing a decoder module registers it; this list is every protocol Gridshare reads.
import './dsmr.js';
