// REST semantics on the embedded SQLite store.
import t from 'tap';
import { restSuite } from './rest-suite.js';

restSuite(t);
