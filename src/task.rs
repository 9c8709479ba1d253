//! The widget's tasks: futures run on the browser's microtask queue ([`spawn`]) and
//! JavaScript promises awaited as futures ([`wait`]). They stand in for wasm-bindgen-futures'
//! `spawn_local` and `JsFuture`, whose shared task queue, path for WebAssembly's JS Promise
//! Integration and search for the global object cost the widget about 1.1 KB of gzip; the
//! widget awaits nothing but promises and timers.
//!
//! A spawned task is polled in a microtask, first after `spawn` returns and then each time it
//! is woken (at most one poll queued at a time), as wasm-bindgen-futures polls it; a promise
//! it awaits wakes it when the promise settles.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &Function);

    /// A promise, for its `then` with two callbacks.
    type Thenable;

    /// `promise.then(resolve, reject)`, its result unused.
    #[wasm_bindgen(method, js_name = then)]
    fn then2(this: &Thenable, resolve: &Function, reject: &Function);
}

/// A JavaScript callback of the type the widget's listeners have: one closure shim for all.
type Callback = Closure<dyn FnMut(JsValue)>;

/// One function for both places that make a callback: `Closure::wrap` written out at each
/// made the wasm 18 B (gzip) larger.
fn callback(f: Box<dyn FnMut(JsValue)>) -> Callback {
    Closure::wrap(f)
}

/// A future the widget runs.
type Boxed = Pin<Box<dyn Future<Output = ()>>>;

/// A spawned future and what polls it.
struct Task {
    /// `None` once it has finished.
    future: RefCell<Option<Boxed>>,
    /// A poll is queued.
    queued: Cell<bool>,
    /// The microtask's callback; it holds the task, which is freed when the future finishes.
    poll: RefCell<Option<Callback>>,
}

impl Task {
    /// Queues a poll, unless one is queued already.
    fn wake(&self) {
        if !self.queued.replace(true) {
            if let Some(poll) = &*self.poll.borrow() {
                queue_microtask(poll.as_ref().unchecked_ref());
            }
        }
    }

    fn poll(task: &Rc<Task>) {
        task.queued.set(false);
        let mut slot = task.future.borrow_mut();
        let Some(future) = slot.as_mut() else { return };
        let waker = waker(Rc::clone(task));
        if future
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            *slot = None;
            drop(slot);
            // The callback running now is freed when it returns, and the task with it.
            drop(task.poll.take());
        }
    }
}

/// A `Waker` over a task. The wasm has one thread: `Rc` is all it needs.
fn waker(task: Rc<Task>) -> Waker {
    unsafe fn clone(task: *const ()) -> RawWaker {
        // SAFETY: `task` came from `Rc::into_raw` and this waker still holds its count.
        unsafe { Rc::increment_strong_count(task as *const Task) };
        RawWaker::new(task, &VTABLE)
    }
    unsafe fn wake(task: *const ()) {
        // SAFETY: as in `clone`; the waker's count is taken back here.
        unsafe { Rc::from_raw(task as *const Task) }.wake();
    }
    unsafe fn wake_by_ref(task: *const ()) {
        // SAFETY: as in `clone`.
        unsafe { &*(task as *const Task) }.wake();
    }
    unsafe fn drop(task: *const ()) {
        // SAFETY: as in `clone`; the waker's count is given back here.
        unsafe { Rc::decrement_strong_count(task as *const Task) };
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);
    // SAFETY: the vtable's functions keep the count of the `Rc` made here.
    unsafe { Waker::from_raw(RawWaker::new(Rc::into_raw(task) as *const (), &VTABLE)) }
}

/// Runs `future` to its end on the browser's event loop. (It comes boxed: one copy of the
/// task machinery for every kind of task.)
pub fn spawn(future: Boxed) {
    let task = Rc::new(Task {
        future: RefCell::new(Some(future)),
        queued: Cell::new(false),
        poll: RefCell::new(None),
    });
    let held = Rc::clone(&task);
    *task.poll.borrow_mut() = Some(callback(Box::new(move |_| Task::poll(&held))));
    task.wake();
}

/// A promise (or callback) being awaited: see [`wait`] and [`waiting`].
pub struct Wait {
    state: Rc<RefCell<Waiting>>,
}

#[derive(Default)]
struct Waiting {
    /// How it settled, once it has.
    result: Option<Result<JsValue, JsValue>>,
    /// The task to wake when it settles.
    waker: Option<Waker>,
    /// The callbacks, kept until one is called.
    callbacks: Vec<Callback>,
}

/// Awaits `promise`: its value, or `Err` with the reason it was rejected for.
pub fn wait(promise: Promise) -> Wait {
    waiting(|resolve, reject| promise.unchecked_ref::<Thenable>().then2(resolve, reject))
}

/// Awaits the first call of one of the two callbacks `start` is given: `Ok` with the first's
/// argument, `Err` with the second's. `start` hands them to something that calls one later
/// (a promise's `then`, a timer): one called within `start` would keep both closures alive.
pub fn waiting(start: impl FnOnce(&Function, &Function)) -> Wait {
    let state = Rc::new(RefCell::new(Waiting::default()));
    let settle = |fulfilled: bool| {
        let state = Rc::clone(&state);
        callback(Box::new(move |value| {
            let waker = {
                let mut s = state.borrow_mut();
                s.result = Some(if fulfilled { Ok(value) } else { Err(value) });
                // The callback running now is freed when it returns.
                s.callbacks.clear();
                s.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }))
    };
    let callbacks = vec![settle(true), settle(false)];
    start(
        callbacks[0].as_ref().unchecked_ref(),
        callbacks[1].as_ref().unchecked_ref(),
    );
    state.borrow_mut().callbacks = callbacks;
    Wait { state }
}

impl Future for Wait {
    type Output = Result<JsValue, JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.state.borrow_mut();
        match s.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
