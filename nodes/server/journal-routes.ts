/**
 * Admin routes about a server's journal (lib/journal), for the butler report node's dialog and
 * for the offer the editor makes when the last report node or the server config is removed:
 * what the file holds, and deleting it. Nothing is deleted without a user asking for it.
 */
import { promises as fs } from 'node:fs';
import type { Request, Response } from 'express';
import type { NodeAPI } from 'node-red';
import { ButlerError, deleteJournal, findJournal, journalPath, message } from '../../lib';
import { answer, dialogValuesOf, refuse, textOf } from './editor-contract';

const REPORT_TYPE = 'plex-butler-report';

export interface JournalRouteContext {
  RED: NodeAPI;
  /** Node-RED's user directory, where the journal files are. */
  userDir(): string | undefined;
  /** After a deletion: report nodes of that server still deployed begin a new journal. */
  deleted(serverId: string): void;
}

/** What the dialog shows about a server's journal. */
export interface JournalInfo {
  exists: boolean;
  /** Its size on disk. */
  bytes: number;
  /** A deployed report node keeps it open (and records into it). */
  kept: boolean;
}

export interface JournalDeleted {
  /** There was a file, and it is gone. */
  deleted: boolean;
  /** Report nodes still deployed for the server have begun a new one. */
  kept: boolean;
}

/** The journal file a request names by its server config id; throws invalid-config. */
function fileOf(context: JournalRouteContext, req: Request): { dir: string; id: string } {
  const dir = context.userDir();
  if (!dir) {
    throw new ButlerError(
      'invalid-config',
      message('journal.errors.directory', { value: message('journal.errors.nothing') }),
    );
  }
  const id = textOf(dialogValuesOf(req).server);
  // Checks the id as the journal does: nothing outside the user directory is ever named.
  journalPath(dir, id);
  return { dir, id };
}

export function registerJournalRoutes(context: JournalRouteContext): void {
  const { RED } = context;
  /** The journal a request names, or undefined once a 400 has answered a bad one. */
  const fileOrRefuse = (req: Request, res: Response): { dir: string; id: string } | undefined => {
    try {
      return fileOf(context, req);
    } catch (error) {
      refuse(res, error, 400);
      return undefined;
    }
  };

  RED.httpAdmin.post(
    '/plex-butler/journal',
    RED.auth.needsPermission(`${REPORT_TYPE}.read`),
    async (req: Request, res: Response) => {
      const file = fileOrRefuse(req, res);
      if (!file) return;
      let bytes = 0;
      let exists = false;
      try {
        const stat = await fs.stat(journalPath(file.dir, file.id));
        exists = stat.isFile();
        bytes = exists ? stat.size : 0;
      } catch {
        // No file (yet): nothing was journaled for this server.
      }
      answer<JournalInfo>(res, {
        exists,
        bytes,
        kept: findJournal(file.dir, file.id) !== undefined,
      });
    },
  );

  RED.httpAdmin.post(
    '/plex-butler/journal/delete',
    RED.auth.needsPermission(`${REPORT_TYPE}.write`),
    async (req: Request, res: Response) => {
      const file = fileOrRefuse(req, res);
      if (!file) return;
      try {
        const deleted = await deleteJournal(file.dir, file.id);
        context.deleted(file.id);
        answer<JournalDeleted>(res, {
          deleted,
          kept: findJournal(file.dir, file.id) !== undefined,
        });
      } catch (error) {
        refuse(res, error);
      }
    },
  );
}
